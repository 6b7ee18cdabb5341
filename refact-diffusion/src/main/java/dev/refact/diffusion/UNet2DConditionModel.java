package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.function.BiConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Stable Diffusion 1.x noise predictor: a port of diffusers' {@code UNet2DConditionModel}
 * (v0.14 {@code unet_2d_condition.py}, {@code unet_2d_blocks.py}, {@code resnet.py},
 * {@code attention.py}, {@code embeddings.py}) loaded from a diffusers {@code unet/} folder by
 * exact parameter names, with the architecture driven by {@link UNetConfig}.
 *
 * <p>Forward: sinusoidal timestep embedding → MLP; {@code conv_in}; down blocks (resnets with the
 * time embedding, Transformer2D cross-attention on the text states, stride-2 downsampling) that
 * push skips; mid block (resnet, transformer, resnet); up blocks that pop and concatenate
 * {@code [hidden, skip]}, nearest ×2 upsampling; {@code GroupNorm → SiLU → conv_out}.
 *
 * <p>Owns its weights (native memory): {@link #close()} frees them. Thread-safe for concurrent
 * forwards (weights are read only); runs under {@link NoGradGuard}.
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are used for their scope, not referenced
public final class UNet2DConditionModel implements AutoCloseable {
    private final UNetConfig config;
    private final ScalarType dtype;
    private final List<Tensor> owned;
    private final Layers.Linear timeLinear1;
    private final Layers.Linear timeLinear2;
    private final Layers.Conv convIn;
    private final DownBlock[] down;
    private final MidBlock mid;
    private final UpBlock[] up;
    private final Layers.GroupNorm normOut;
    private final Layers.Conv convOut;
    private final java.util.Map<String, Object> modules;
    private volatile boolean closed;

    private UNet2DConditionModel(UNetConfig c, Weights w, ScalarType dtype, int attentionChunk)
            throws CheckpointFormatException {
        this.config = c;
        this.dtype = dtype;
        List<Integer> boc = c.blockOutChannels();
        int n = boc.size();
        long temb = c.timeEmbedDim();
        long groups = c.normNumGroups();
        double eps = c.normEps();
        long cross = c.crossAttentionDim();
        dev.refact.clip.torch.TorchRuntime.ensureLoaded();
        try {
            timeLinear1 = new Layers.Linear(w, "time_embedding.linear_1", boc.get(0), temb, true);
            timeLinear2 = new Layers.Linear(w, "time_embedding.linear_2", temb, temb, true);
            convIn = new Layers.Conv(w, "conv_in", c.inChannels(), boc.get(0), c.convInKernel(), 1,
                    (c.convInKernel() - 1) / 2);
            down = new DownBlock[n];
            long outCh = boc.get(0);
            for (int i = 0; i < n; i++) {
                long inCh = outCh;
                outCh = boc.get(i);
                boolean attn = c.downBlockTypes().get(i).equals("CrossAttnDownBlock2D");
                down[i] = new DownBlock(w, "down_blocks." + i, c.layersPerBlock(), inCh, outCh, temb, groups, eps,
                        attn, c.attentionHeads().get(i), cross, c.useLinearProjection(),
                        c.onlyCrossAttention().get(i), c.upcastAttention(), attentionChunk, i < n - 1,
                        c.downsamplePadding());
            }
            long last = boc.get(n - 1);
            mid = new MidBlock(w, "mid_block", last, temb, groups, eps, c.midBlockScaleFactor(),
                    c.attentionHeads().get(n - 1), cross, c.useLinearProjection(), c.upcastAttention(), attentionChunk);
            up = new UpBlock[n];
            outCh = boc.get(n - 1);
            for (int i = 0; i < n; i++) {
                long prevOut = outCh;
                outCh = boc.get(n - 1 - i);
                long inCh = boc.get(Math.max(n - 2 - i, 0));
                boolean attn = c.upBlockTypes().get(i).equals("CrossAttnUpBlock2D");
                up[i] = new UpBlock(w, "up_blocks." + i, c.layersPerBlock() + 1, inCh, outCh, prevOut, temb, groups,
                        eps, attn, c.attentionHeads().get(n - 1 - i), cross, c.useLinearProjection(),
                        c.onlyCrossAttention().get(n - 1 - i), c.upcastAttention(), attentionChunk, i < n - 1);
            }
            normOut = new Layers.GroupNorm(w, "conv_norm_out", boc.get(0), groups, eps);
            convOut = new Layers.Conv(w, "conv_out", boc.get(0), c.outChannels(), c.convOutKernel(), 1,
                    (c.convOutKernel() - 1) / 2);
        } catch (RuntimeException e) {
            w.abandon();
            throw e;
        }
        this.owned = w.finish();
        this.modules = java.util.Map.copyOf(w.modules());
    }

    /** Applies the model's own GroupNorm/LayerNorm at a diffusers module path (tests). */
    Tensor applyNorm(String path, Tensor x) {
        return Layers.applyNorm(modules, path, x);
    }

    /**
     * Loads {@code dir/config.json} and {@code dir/diffusion_pytorch_model.safetensors} (or the
     * {@code .fp16} variant).
     *
     * @param dir            a diffusers {@code unet/} folder
     * @param dtype          compute dtype ({@code Float} on CPU; {@code Half}/{@code BFloat16} allowed)
     * @param device         where the weights live and the forward runs
     * @param attentionChunk queries per attention chunk (0 = unchunked) to bound attention memory
     * @return the loaded UNet, owning its weights; the caller closes it
     * @throws CheckpointFormatException for a missing file, an unsupported config value, or
     *                                   missing/unexpected/mis-shaped tensors (all named)
     * @throws IOException               if a file cannot be read
     */
    public static UNet2DConditionModel load(Path dir, ScalarType dtype, Device device, int attentionChunk)
            throws IOException {
        UNetConfig config = UNetConfig.read(ModelFiles.config(dir));
        Weights w = Weights.fromFile(ModelFiles.weights(dir), dtype, device);
        return new UNet2DConditionModel(config, w, dtype, attentionChunk);
    }

    /**
     * Loads the UNet of a Stable Diffusion 1.x single-file checkpoint (LDM layout, {@code model.diffusion_model.*};
     * other tensors are ignored). The config is inferred from tensor shapes, with SD 1.x values (8 heads per
     * level) for what shapes do not show.
     *
     * @param file           the {@code .safetensors} single-file checkpoint
     * @param dtype          compute dtype ({@code Float} on CPU; {@code Half}/{@code BFloat16} allowed)
     * @param device         where the weights live and the forward runs
     * @param attentionChunk queries per attention chunk (0 = unchunked) to bound attention memory
     * @return the loaded UNet, owning its weights; the caller closes it
     * @throws CheckpointFormatException naming the file and the missing, unexpected or mis-shaped LDM tensors
     * @throws IOException               if the file cannot be read
     */
    public static UNet2DConditionModel loadSingleFile(Path file, ScalarType dtype, Device device, int attentionChunk)
            throws IOException {
        UNetConfig config;
        try (dev.refact.clip.io.SafetensorsFile sf = dev.refact.clip.io.SafetensorsFile.open(file)) {
            config = LdmCheckpoint.unetConfig(sf);
        }
        Weights w = Weights.fromSingleFile(file, n -> LdmCheckpoint.unetName(config, n),
                n -> n.startsWith(LdmCheckpoint.UNET), dtype, device);
        return new UNet2DConditionModel(config, w, dtype, attentionChunk);
    }

    /**
     * A model of the given architecture with seeded random weights (benchmarks, tests).
     *
     * @param config         the architecture
     * @param seed           seed of the CPU generator the weights are drawn from (same seed, same weights)
     * @param dtype          compute dtype of the weights and activations
     * @param device         where the weights live and the forward runs
     * @param attentionChunk queries per attention chunk (0 = unchunked) to bound attention memory
     * @return a new UNet owning its weights; the caller closes it
     */
    public static UNet2DConditionModel random(UNetConfig config, long seed, ScalarType dtype, Device device,
                                              int attentionChunk) {
        try {
            return new UNet2DConditionModel(config, Weights.random(seed, dtype, device), dtype, attentionChunk);
        } catch (CheckpointFormatException e) {
            throw new IllegalStateException("random weights cannot mismatch: " + e.getMessage(), e);
        }
    }

    /**
     * The architecture.
     *
     * @return the config this UNet was built from
     */
    public UNetConfig config() {
        return config;
    }

    /**
     * The device of the weights (a new Device object; the caller may close it).
     *
     * @return a new {@link Device} naming where the weights live
     */
    public Device device() {
        return timeLinear1.weight.device();
    }

    /**
     * Compute dtype of the weights and activations.
     *
     * @return the dtype given at load time; {@link #forward} returns this dtype
     */
    public ScalarType dtype() {
        return dtype;
    }

    /**
     * Predicts the noise.
     *
     * @param sample               [B, in_channels, h, w] latents (any float dtype; cast to the compute dtype)
     * @param timesteps            one timestep for the whole batch, or one per batch row; may be fractional
     * @param encoderHiddenStates  [B, M, cross_attention_dim] text states
     * @return [B, out_channels, h, w] in the compute dtype; the caller owns it (close it, or let an
     *         enclosing {@link PointerScope} do so)
     * @throws IllegalArgumentException on mismatched shapes or timestep count
     */
    public Tensor forward(Tensor sample, double[] timesteps, Tensor encoderHiddenStates) {
        return forward(sample, timesteps, encoderHiddenStates, null);
    }

    /** As {@link #forward(Tensor, double[], Tensor)}, reporting named intermediates to {@code trace}. */
    Tensor forward(Tensor sample, double[] timesteps, Tensor encoderHiddenStates, BiConsumer<String, Tensor> trace) {
        checkOpen();
        long[] s = Tensors.shape(sample);
        long[] e = Tensors.shape(encoderHiddenStates);
        if (s.length != 4 || s[1] != config.inChannels()) {
            throw new IllegalArgumentException("UNet sample must be [B, " + config.inChannels() + ", h, w], got "
                    + Arrays.toString(s));
        }
        if (e.length != 3 || e[0] != s[0] || e[2] != config.crossAttentionDim()) {
            throw new IllegalArgumentException("UNet encoder_hidden_states must be [" + s[0] + ", M, "
                    + config.crossAttentionDim() + "] (cross_attention_dim), got " + Arrays.toString(e));
        }
        if (timesteps.length != 1 && timesteps.length != s[0]) {
            throw new IllegalArgumentException("UNet needs 1 or " + s[0] + " timesteps, got " + timesteps.length);
        }
        BiConsumer<String, Tensor> tr = trace == null ? (k, v) -> { } : trace;
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
            Device device = timeLinear1.weight.device();
            Tensor x = sample.to(device, dtype);
            Tensor ctx = encoderHiddenStates.to(device, dtype);
            if (config.centerInputSample()) {
                x = x.mul(new Scalar(2.0)).sub(new Scalar(1.0));
            }
            Tensor tproj = timeProjection(timesteps, s[0], device);
            tr.accept("time_proj", tproj);
            Tensor temb = timeEmbedding(tproj);
            tr.accept("time_embedding", temb);

            Tensor h = convIn.forward(x);
            tr.accept("conv_in", h);
            Deque<Tensor> skips = new ArrayDeque<>();
            skips.push(h);
            for (int i = 0; i < down.length; i++) {
                h = down[i].forward(h, temb, ctx, skips, i == 0 ? tr : null);
                tr.accept("down_blocks." + i, h);
            }
            h = mid.forward(h, temb, ctx);
            tr.accept("mid_block", h);
            for (int i = 0; i < up.length; i++) {
                h = up[i].forward(h, temb, ctx, skips);
                tr.accept("up_blocks." + i, h);
            }
            Tensor out = convOut.forward(Ops.silu(normOut.forward(h)));
            if (outer != null) {
                outer.attach(out);
            } else {
                out.retainReference();
            }
            return out;
        }
    }

    /**
     * diffusers {@code Timesteps} (get_timestep_embedding), computed in float32 as torch does:
     * {@code freq_i = exp(-ln(10000)·i / (half − freq_shift))}, {@code arg = float(t)·freq_i},
     * {@code [cos, sin]} when flip_sin_to_cos. Returns [B, block_out_channels[0]] float32.
     */
    Tensor timeProjection(double[] timesteps, long batch, Device device) {
        int dim = config.blockOutChannels().get(0);
        int half = dim / 2;
        float[] t = new float[(int) batch];
        for (int i = 0; i < batch; i++) {
            t[i] = (float) (timesteps.length == 1 ? timesteps[0] : timesteps[i]);
        }
        Tensor tt = Tensors.floats(t, device, batch, 1); // handed to the enclosing scope
        Tensor exponent = torch.arange(new Scalar(0), new Scalar(half), Tensors.options(ScalarType.Float, device))
                .mul(new Scalar(-Math.log(10000.0)))
                .div(new Scalar((double) (half - config.freqShift())));
        Tensor arg = tt.mul(torch.exp(exponent).unsqueeze(0)); // [B, half]
        Tensor sin = torch.sin(arg);
        Tensor cos = torch.cos(arg);
        Tensor emb = config.flipSinToCos() ? Ops.cat(1, cos, sin) : Ops.cat(1, sin, cos);
        if (dim % 2 == 1) {
            emb = Ops.pad(emb, 0, 1, 0, 0);
        }
        return emb;
    }

    /** {@code TimestepEmbedding}: linear_1 → SiLU → linear_2 on [B, C0] → [B, 4·C0]. */
    Tensor timeEmbedding(Tensor timeProj) {
        return timeLinear2.forward(Ops.silu(timeLinear1.forward(timeProj.to(dtype))));
    }

    /**
     * Number of parameters (elements of all weight tensors).
     *
     * @return the total element count of the weights (SD 1.x: about 860 M)
     * @throws IllegalStateException if the UNet is closed
     */
    public long parameterCount() {
        checkOpen();
        long n = 0;
        for (Tensor t : owned) {
            n += t.numel();
        }
        return n;
    }

    /** Frees the weights. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            owned.forEach(Tensor::close);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("UNet2DConditionModel is closed");
        }
    }

    /** {@code CrossAttnDownBlock2D} / {@code DownBlock2D}. */
    private static final class DownBlock {
        private final ResnetBlock[] resnets;
        private final Transformer2D[] attentions; // null for DownBlock2D
        private final Layers.Downsample downsampler; // null on the last level

        DownBlock(Weights w, String prefix, int layers, long in, long out, long temb, long groups, double eps,
                  boolean attn, long heads, long cross, boolean linearProj, boolean onlyCross, boolean upcast,
                  int chunk, boolean addDownsample, int downsamplePadding) {
            resnets = new ResnetBlock[layers];
            attentions = attn ? new Transformer2D[layers] : null;
            for (int j = 0; j < layers; j++) {
                resnets[j] = new ResnetBlock(w, prefix + ".resnets." + j, j == 0 ? in : out, out, temb, groups, eps,
                        1.0);
                if (attn) {
                    attentions[j] = new Transformer2D(w, prefix + ".attentions." + j, out, heads, cross, groups,
                            linearProj, onlyCross, upcast, chunk);
                }
            }
            downsampler = addDownsample
                    ? new Layers.Downsample(w, prefix + ".downsamplers.0", out, downsamplePadding) : null;
        }

        Tensor forward(Tensor x, Tensor temb, Tensor ctx, Deque<Tensor> skips, BiConsumer<String, Tensor> tr) {
            Tensor h = x;
            for (int j = 0; j < resnets.length; j++) {
                h = resnets[j].forward(h, temb);
                if (attentions != null) {
                    h = attentions[j].forward(h, ctx);
                }
                skips.push(h);
                if (tr != null) {
                    tr.accept("down_blocks.0.res." + j, h);
                }
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
                skips.push(h);
            }
            return h;
        }
    }

    /** {@code UNetMidBlock2DCrossAttn}: resnet, transformer, resnet. */
    private static final class MidBlock {
        private final ResnetBlock resnet0;
        private final Transformer2D attention;
        private final ResnetBlock resnet1;

        MidBlock(Weights w, String prefix, long ch, long temb, long groups, double eps, double scale, long heads,
                 long cross, boolean linearProj, boolean upcast, int chunk) {
            resnet0 = new ResnetBlock(w, prefix + ".resnets.0", ch, ch, temb, groups, eps, scale);
            attention = new Transformer2D(w, prefix + ".attentions.0", ch, heads, cross, groups, linearProj, false,
                    upcast, chunk);
            resnet1 = new ResnetBlock(w, prefix + ".resnets.1", ch, ch, temb, groups, eps, scale);
        }

        Tensor forward(Tensor x, Tensor temb, Tensor ctx) {
            return resnet1.forward(attention.forward(resnet0.forward(x, temb), ctx), temb);
        }
    }

    /** {@code CrossAttnUpBlock2D} / {@code UpBlock2D}. */
    private static final class UpBlock {
        private final ResnetBlock[] resnets;
        private final Transformer2D[] attentions;
        private final Layers.Upsample upsampler;

        UpBlock(Weights w, String prefix, int layers, long in, long out, long prevOut, long temb, long groups,
                double eps, boolean attn, long heads, long cross, boolean linearProj, boolean onlyCross,
                boolean upcast, int chunk, boolean addUpsample) {
            resnets = new ResnetBlock[layers];
            attentions = attn ? new Transformer2D[layers] : null;
            for (int j = 0; j < layers; j++) {
                long skipCh = j == layers - 1 ? in : out;
                long resIn = j == 0 ? prevOut : out;
                resnets[j] = new ResnetBlock(w, prefix + ".resnets." + j, resIn + skipCh, out, temb, groups, eps, 1.0);
                if (attn) {
                    attentions[j] = new Transformer2D(w, prefix + ".attentions." + j, out, heads, cross, groups,
                            linearProj, onlyCross, upcast, chunk);
                }
            }
            upsampler = addUpsample ? new Layers.Upsample(w, prefix + ".upsamplers.0", out) : null;
        }

        Tensor forward(Tensor x, Tensor temb, Tensor ctx, Deque<Tensor> skips) {
            Tensor h = x;
            for (int j = 0; j < resnets.length; j++) {
                Tensor skip = skips.pop();
                h = resnets[j].forward(Ops.cat(1, h, skip), temb);
                if (attentions != null) {
                    h = attentions[j].forward(h, ctx);
                }
            }
            if (upsampler != null) {
                // diffusers forwards the next skip's size, so odd latent sizes round-trip
                Tensor next = skips.peek();
                h = next == null ? upsampler.forward(h, -1, -1) : upsampler.forward(h, next.size(2), next.size(3));
            }
            return h;
        }
    }
}
