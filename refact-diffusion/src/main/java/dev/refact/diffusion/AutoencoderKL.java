package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Stable Diffusion VAE: a port of diffusers' {@code AutoencoderKL} (v0.14 {@code vae.py},
 * {@code autoencoder_kl.py}) with its encoder and decoder, loaded from a diffusers {@code vae/}
 * folder by exact parameter names.
 *
 * <p>Decoder: {@code post_quant_conv (1x1) → conv_in → mid (resnet, single-head attention, resnet) →
 * up blocks (layers_per_block+1 resnets, nearest ×2 + conv on all but the last) → GN → SiLU → conv_out}.
 * Encoder: {@code conv_in → down blocks (resnets, right/bottom pad + stride-2 conv) → mid → GN → SiLU →
 * conv_out → quant_conv}, giving [mean | logvar]. All GroupNorms use eps 1e-6.
 *
 * <p>Owns its weights; {@link #close()} frees them.
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are used for their scope, not referenced
public final class AutoencoderKL implements AutoCloseable {
    private static final double EPS = 1e-6;

    private final VaeConfig config;
    private final ScalarType dtype;
    private final List<Tensor> owned;
    // decoder
    private final Layers.Conv postQuantConv;
    private final Layers.Conv decConvIn;
    private final Mid decMid;
    private final ResnetBlock[][] decUp;
    private final Layers.Upsample[] decUpsamplers;
    private final Layers.GroupNorm decNormOut;
    private final Layers.Conv decConvOut;
    // encoder
    private final Layers.Conv encConvIn;
    private final ResnetBlock[][] encDown;
    private final Layers.Downsample[] encDownsamplers;
    private final Mid encMid;
    private final Layers.GroupNorm encNormOut;
    private final Layers.Conv encConvOut;
    private final Layers.Conv quantConv;
    private final java.util.Map<String, Object> modules;
    private volatile boolean closed;

    private AutoencoderKL(VaeConfig c, Weights w, ScalarType dtype, int chunk) throws CheckpointFormatException {
        this.config = c;
        this.dtype = dtype;
        List<Integer> boc = c.blockOutChannels();
        int n = boc.size();
        long groups = c.normNumGroups();
        long latent = c.latentChannels();
        dev.refact.clip.torch.TorchRuntime.ensureLoaded();
        try {
            // encoder
            encConvIn = new Layers.Conv(w, "encoder.conv_in", c.inChannels(), boc.get(0), 3, 1, 1);
            encDown = new ResnetBlock[n][];
            encDownsamplers = new Layers.Downsample[n];
            long out = boc.get(0);
            for (int i = 0; i < n; i++) {
                long in = out;
                out = boc.get(i);
                encDown[i] = new ResnetBlock[c.layersPerBlock()];
                for (int j = 0; j < c.layersPerBlock(); j++) {
                    encDown[i][j] = new ResnetBlock(w, "encoder.down_blocks." + i + ".resnets." + j, j == 0 ? in : out,
                            out, 0, groups, EPS, 1.0);
                }
                encDownsamplers[i] = i < n - 1
                        ? new Layers.Downsample(w, "encoder.down_blocks." + i + ".downsamplers.0", out, 0) : null;
            }
            long top = boc.get(n - 1);
            encMid = new Mid(w, "encoder.mid_block", top, groups, chunk);
            encNormOut = new Layers.GroupNorm(w, "encoder.conv_norm_out", top, groups, EPS);
            encConvOut = new Layers.Conv(w, "encoder.conv_out", top, 2 * latent, 3, 1, 1);
            quantConv = new Layers.Conv(w, "quant_conv", 2 * latent, 2 * latent, 1, 1, 0);
            // decoder
            postQuantConv = new Layers.Conv(w, "post_quant_conv", latent, latent, 1, 1, 0);
            decConvIn = new Layers.Conv(w, "decoder.conv_in", latent, top, 3, 1, 1);
            decMid = new Mid(w, "decoder.mid_block", top, groups, chunk);
            decUp = new ResnetBlock[n][];
            decUpsamplers = new Layers.Upsample[n];
            out = top;
            for (int i = 0; i < n; i++) {
                long prev = out;
                out = boc.get(n - 1 - i);
                decUp[i] = new ResnetBlock[c.layersPerBlock() + 1];
                for (int j = 0; j <= c.layersPerBlock(); j++) {
                    decUp[i][j] = new ResnetBlock(w, "decoder.up_blocks." + i + ".resnets." + j, j == 0 ? prev : out,
                            out, 0, groups, EPS, 1.0);
                }
                decUpsamplers[i] = i < n - 1 ? new Layers.Upsample(w, "decoder.up_blocks." + i + ".upsamplers.0", out)
                        : null;
            }
            decNormOut = new Layers.GroupNorm(w, "decoder.conv_norm_out", boc.get(0), groups, EPS);
            decConvOut = new Layers.Conv(w, "decoder.conv_out", boc.get(0), c.outChannels(), 3, 1, 1);
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
     * Loads {@code dir/config.json} and {@code dir/diffusion_pytorch_model.safetensors}.
     *
     * @param dir    a diffusers {@code vae/} folder (a {@code diffusion_pytorch_model.fp16.safetensors} is also
     *               taken; pickled {@code .bin} weights are refused)
     * @param dtype  compute dtype of the weights and activations (F32/F16/BF16 on disk are converted to it)
     * @param device where the weights live and encode/decode run
     * @param chunk queries per attention chunk in the mid block (0 = unchunked)
     * @return the loaded VAE, owning its weights; the caller closes it
     * @throws CheckpointFormatException for a missing file, an unsupported config value or
     *                                   missing/unexpected/mis-shaped tensors (all named)
     * @throws IOException               if a file cannot be read
     */
    public static AutoencoderKL load(Path dir, ScalarType dtype, Device device, int chunk) throws IOException {
        VaeConfig config = VaeConfig.read(ModelFiles.config(dir));
        Weights w = Weights.fromFile(ModelFiles.weights(dir), dtype, device);
        return new AutoencoderKL(config, w, dtype, chunk);
    }

    /**
     * Loads the VAE of a Stable Diffusion 1.x single-file checkpoint (LDM layout, {@code first_stage_model.*};
     * other tensors are ignored), the config inferred from tensor shapes (scaling factor 0.18215).
     *
     * @param file   the {@code .safetensors} single-file checkpoint
     * @param dtype  compute dtype of the weights and activations (F32/F16/BF16 on disk are converted to it)
     * @param device where the weights live and encode/decode run
     * @param chunk  queries per attention chunk in the mid block (0 = unchunked)
     * @return the loaded VAE, owning its weights; the caller closes it
     * @throws CheckpointFormatException naming the file and the missing, unexpected or mis-shaped LDM tensors
     * @throws IOException               if the file cannot be read
     */
    public static AutoencoderKL loadSingleFile(Path file, ScalarType dtype, Device device, int chunk)
            throws IOException {
        VaeConfig config;
        try (dev.refact.clip.io.SafetensorsFile sf = dev.refact.clip.io.SafetensorsFile.open(file)) {
            config = LdmCheckpoint.vaeConfig(sf);
        }
        Weights w = Weights.fromSingleFile(file, n -> LdmCheckpoint.vaeName(config, n),
                LdmCheckpoint::isVaeWeight, dtype, device);
        return new AutoencoderKL(config, w, dtype, chunk);
    }

    /**
     * A VAE of the given architecture with seeded random weights (benchmarks, tests).
     *
     * @param config the architecture
     * @param seed   seed of the CPU generator the weights are drawn from (same seed, same weights)
     * @param dtype  compute dtype of the weights and activations
     * @param device where the weights live and encode/decode run
     * @param chunk  queries per attention chunk in the mid block (0 = unchunked)
     * @return a new VAE owning its weights; the caller closes it
     */
    public static AutoencoderKL random(VaeConfig config, long seed, ScalarType dtype, Device device, int chunk) {
        try {
            return new AutoencoderKL(config, Weights.random(seed, dtype, device), dtype, chunk);
        } catch (CheckpointFormatException e) {
            throw new IllegalStateException("random weights cannot mismatch: " + e.getMessage(), e);
        }
    }

    /**
     * The architecture.
     *
     * @return the config this VAE was built from
     */
    public VaeConfig config() {
        return config;
    }

    /**
     * The pipeline's {@code decode_latents} up to the clamp: {@code vae.decode(latents / scaling_factor)}.
     *
     * @param latents [B, latent_channels, h, w] in SD latent space
     * @return [B, out_channels, h·f, w·f], nominally in [-1, 1] (not clamped); caller owns it
     */
    public Tensor decodeLatents(Tensor latents) {
        return decode(latents, true, null);
    }

    /**
     * diffusers {@code vae.decode(z).sample}: no scaling.
     *
     * @param z [B, latent_channels, h, w]
     * @return [B, out_channels, h·f, w·f]; caller owns it
     */
    public Tensor decode(Tensor z) {
        return decode(z, false, null);
    }

    Tensor decode(Tensor z, boolean scale, BiConsumer<String, Tensor> trace) {
        checkOpen();
        checkShape(z, config.latentChannels(), "latents");
        BiConsumer<String, Tensor> tr = trace == null ? (k, v) -> { } : trace;
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
            Tensor x = z.to(postQuantConv.weight.device(), dtype);
            if (scale) {
                // the pipeline multiplies by the float64 reciprocal (rounded to the tensor's dtype)
                x = x.mul(new Scalar(1.0 / config.scalingFactor()));
            }
            Tensor h = postQuantConv.forward(x);
            tr.accept("post_quant_conv", h);
            h = decConvIn.forward(h);
            tr.accept("decoder.conv_in", h);
            h = decMid.forward(h);
            tr.accept("decoder.mid_block", h);
            for (int i = 0; i < decUp.length; i++) {
                for (ResnetBlock r : decUp[i]) {
                    h = r.forward(h, null);
                }
                if (decUpsamplers[i] != null) {
                    h = decUpsamplers[i].forward(h, -1, -1);
                }
                tr.accept("decoder.up_blocks." + i, h);
            }
            Tensor out = decConvOut.forward(Ops.silu(decNormOut.forward(h)));
            return escape(outer, out);
        }
    }

    /**
     * Encodes images to the moments of the latent distribution ({@code quant_conv(encoder(x))}).
     *
     * @param image [B, in_channels, H, W] in [-1, 1], H and W multiples of {@link VaeConfig#scaleFactor()}
     * @return [B, 2·latent_channels, H/f, W/f]: mean then log-variance (unclamped); caller owns it
     */
    public Tensor encodeMoments(Tensor image) {
        checkOpen();
        checkShape(image, config.inChannels(), "image");
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
            Tensor h = encConvIn.forward(image.to(encConvIn.weight.device(), dtype));
            for (int i = 0; i < encDown.length; i++) {
                for (ResnetBlock r : encDown[i]) {
                    h = r.forward(h, null);
                }
                if (encDownsamplers[i] != null) {
                    h = encDownsamplers[i].forward(h);
                }
            }
            h = encMid.forward(h);
            h = encConvOut.forward(Ops.silu(encNormOut.forward(h)));
            return escape(outer, quantConv.forward(h));
        }
    }

    /**
     * The latent an image maps to without sampling: {@code mean · scaling_factor}.
     *
     * @param image [B, in_channels, H, W] in [-1, 1]
     * @return [B, latent_channels, H/f, W/f]; caller owns it
     */
    public Tensor encodeLatents(Tensor image) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope scope = new PointerScope()) {
            Tensor moments = encodeMoments(image);
            Tensor mean = moments.narrow(1, 0, config.latentChannels());
            return escape(outer, mean.mul(new Scalar(config.scalingFactor())));
        }
    }

    /**
     * Number of parameters (elements of all weight tensors).
     *
     * @return the total element count of the encoder and decoder weights
     * @throws IllegalStateException if the VAE is closed
     */
    public long parameterCount() {
        checkOpen();
        long n = 0;
        for (Tensor t : owned) {
            n += t.numel();
        }
        return n;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            owned.forEach(Tensor::close);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("AutoencoderKL is closed");
        }
    }

    private static void checkShape(Tensor t, int channels, String what) {
        long[] s = Tensors.shape(t);
        if (s.length != 4 || s[1] != channels) {
            throw new IllegalArgumentException("VAE " + what + " must be [B, " + channels + ", h, w], got "
                    + Arrays.toString(s));
        }
    }

    private static Tensor escape(PointerScope outer, Tensor t) {
        if (outer != null) {
            outer.attach(t);
        } else {
            t.retainReference();
        }
        return t;
    }

    /** {@code UNetMidBlock2D} of the VAE: resnet, single-head spatial attention, resnet. */
    private static final class Mid {
        private final ResnetBlock resnet0;
        private final Layers.GroupNorm attnNorm;
        private final CrossAttention attention;
        private final ResnetBlock resnet1;

        Mid(Weights w, String prefix, long ch, long groups, int chunk) {
            resnet0 = new ResnetBlock(w, prefix + ".resnets.0", ch, ch, 0, groups, EPS, 1.0);
            attnNorm = new Layers.GroupNorm(w, prefix + ".attentions.0.group_norm", ch, groups, EPS);
            attention = CrossAttention.vae(w, prefix + ".attentions.0", ch, chunk);
            resnet1 = new ResnetBlock(w, prefix + ".resnets.1", ch, ch, 0, groups, EPS, 1.0);
        }

        Tensor forward(Tensor x) {
            Tensor h = resnet0.forward(x, null);
            h = attend(h);
            return resnet1.forward(h, null);
        }

        private Tensor attend(Tensor x) {
            return Ops.scoped(() -> {
                long b = x.size(0);
                long c = x.size(1);
                long hh = x.size(2);
                long ww = x.size(3);
                Tensor t = attnNorm.forward(x).reshape(b, c, hh * ww).transpose(1, 2); // [B, HW, C]
                Tensor o = attention.forward(t, null); // [B, HW, C]
                return o.transpose(1, 2).reshape(b, c, hh, ww).add(x);
            });
        }
    }
}
