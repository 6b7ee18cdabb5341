package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Finite;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Stable Diffusion 1.x text-to-image, as diffusers v0.14 {@code StableDiffusionPipeline}:
 * prompts → text states (77 tokens) → classifier-free guidance ({@code cat([uncond, cond])},
 * {@code u + g·(c − u)}) → scheduler loop → VAE decode.
 *
 * <p>Usage:
 * <pre>{@code
 * try (ClipTextModel clip = ClipTextModel.load(sdDir);
 *      StableDiffusionPipeline sd = StableDiffusionPipeline.load(sdDir, ScalarType.Float, Tensors.cpu(), 1024);
 *      Generation g = sd.generate(new ClipPromptEncoder(clip, tokenizer), List.of("a photo of a cat"), List.of(""),
 *                                 GenerationOptions.defaults().withSeed(42), null, ProgressListener.NONE)) {
 *     Images.writePng(g.toImages().get(0), Path.of("cat.png"));
 * }
 * }</pre>
 *
 * <p>Memory: each denoising step runs in its own {@link PointerScope}, so native memory stays flat
 * across steps; attention is chunked by queries when {@code attentionChunk > 0}; images are decoded
 * one at a time. Deterministic: the same inputs and seed give bit-identical latents on one machine.
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are used for their scope, not referenced
public final class StableDiffusionPipeline implements AutoCloseable {
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final SchedulerConfig schedulerConfig;
    private final boolean owns;

    /**
     * Wraps loaded models (not owned: the caller closes them after the pipeline).
     *
     * @param unet            the noise predictor, not {@code null}
     * @param vae             the VAE that decodes the final latents, not {@code null}
     * @param schedulerConfig the noise schedule and scheduler options, not {@code null}
     * @throws IllegalArgumentException if the VAE's latent channels differ from the UNet's input channels
     */
    public StableDiffusionPipeline(UNet2DConditionModel unet, AutoencoderKL vae, SchedulerConfig schedulerConfig) {
        this(unet, vae, schedulerConfig, false);
    }

    private StableDiffusionPipeline(UNet2DConditionModel unet, AutoencoderKL vae, SchedulerConfig config,
                                    boolean owns) {
        this.unet = Objects.requireNonNull(unet, "unet");
        this.vae = Objects.requireNonNull(vae, "vae");
        this.schedulerConfig = Objects.requireNonNull(config, "schedulerConfig");
        this.owns = owns;
        if (vae.config().latentChannels() != unet.config().inChannels()) {
            throw new IllegalArgumentException("VAE latent_channels " + vae.config().latentChannels()
                    + " != UNet in_channels " + unet.config().inChannels());
        }
    }

    /**
     * Loads {@code unet/}, {@code vae/} and {@code scheduler/scheduler_config.json} of a diffusers
     * Stable Diffusion 1.x folder (the text encoder is loaded separately, see {@link ClipPromptEncoder}).
     *
     * @param sdDir          the Stable Diffusion folder (with {@code unet/}, {@code vae/}, {@code scheduler/}), or a
     *                       single-file checkpoint, which is handed to {@link #loadSingleFile} with
     *                       {@link SchedulerConfig#stableDiffusion1()}
     * @param dtype          compute dtype of the UNet and VAE weights and activations
     * @param device         where the weights live and generation runs
     * @param attentionChunk queries per attention chunk (0 = unchunked; 1024 bounds a 512×512 run)
     * @return a pipeline that owns the loaded UNet and VAE; the caller closes it
     * @throws CheckpointFormatException naming the missing folder/file, unsupported config value or
     *                                   mismatched tensors
     * @throws IOException               if a file cannot be read
     */
    public static StableDiffusionPipeline load(Path sdDir, ScalarType dtype, Device device, int attentionChunk)
            throws IOException {
        if (LdmCheckpoint.isSingleFile(sdDir)) {
            return loadSingleFile(sdDir, SchedulerConfig.stableDiffusion1(), dtype, device, attentionChunk);
        }
        ModelFiles.requireDir(sdDir);
        SchedulerConfig sc = SchedulerConfig.read(requireFile(sdDir.resolve("scheduler").resolve(
                "scheduler_config.json")));
        UNet2DConditionModel unet = UNet2DConditionModel.load(sdDir.resolve("unet"), dtype, device, attentionChunk);
        return withVae(unet, () -> AutoencoderKL.load(sdDir.resolve("vae"), dtype, device, attentionChunk), sc);
    }

    /**
     * Loads the UNet and VAE of a Stable Diffusion 1.x single-file checkpoint (LDM layout:
     * {@code model.diffusion_model.*}, {@code first_stage_model.*}; configs inferred from tensor shapes). Single
     * files carry no scheduler settings: {@code schedulerConfig} supplies them
     * ({@link SchedulerConfig#stableDiffusion1()} is what SD 1.x was trained with). {@link #load} calls this when
     * given a file.
     *
     * @param file            the {@code .safetensors} single-file checkpoint
     * @param schedulerConfig the scheduler settings to use, not {@code null}
     * @param dtype           compute dtype of the UNet and VAE weights and activations
     * @param device          where the weights live and generation runs
     * @param attentionChunk  queries per attention chunk (0 = unchunked; 1024 bounds a 512×512 run)
     * @return a pipeline that owns the loaded UNet and VAE; the caller closes it
     * @throws CheckpointFormatException naming the file and the missing, unexpected or mis-shaped tensors
     * @throws IOException               if the file cannot be read
     */
    public static StableDiffusionPipeline loadSingleFile(Path file, SchedulerConfig schedulerConfig, ScalarType dtype,
                                                         Device device, int attentionChunk) throws IOException {
        Objects.requireNonNull(schedulerConfig, "schedulerConfig");
        UNet2DConditionModel unet = UNet2DConditionModel.loadSingleFile(file, dtype, device, attentionChunk);
        return withVae(unet, () -> AutoencoderKL.loadSingleFile(file, dtype, device, attentionChunk), schedulerConfig);
    }

    private interface VaeLoader {
        AutoencoderKL load() throws IOException;
    }

    private static StableDiffusionPipeline withVae(UNet2DConditionModel unet, VaeLoader loader, SchedulerConfig sc)
            throws IOException {
        try {
            AutoencoderKL vae = loader.load();
            try {
                return new StableDiffusionPipeline(unet, vae, sc, true);
            } catch (RuntimeException e) {
                vae.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            unet.close();
            throw e;
        }
    }

    private static Path requireFile(Path p) throws CheckpointFormatException {
        if (!java.nio.file.Files.isRegularFile(p)) {
            throw new CheckpointFormatException(p, "file not found (component folder missing?)");
        }
        return p;
    }

    /**
     * The UNet.
     *
     * @return the UNet (owned by this pipeline if it loaded it; do not close it separately then)
     */
    public UNet2DConditionModel unet() {
        return unet;
    }

    /**
     * The VAE.
     *
     * @return the VAE (owned by this pipeline if it loaded it; do not close it separately then)
     */
    public AutoencoderKL vae() {
        return vae;
    }

    /**
     * The scheduler settings read from the folder.
     *
     * @return the scheduler config every run uses (for a single file or wrapped models: the one given)
     */
    public SchedulerConfig schedulerConfig() {
        return schedulerConfig;
    }

    /**
     * Pixels per latent (SD: 8).
     *
     * @return the VAE's {@link VaeConfig#scaleFactor()}; image height and width must be multiples of it
     */
    public int vaeScaleFactor() {
        return vae.config().scaleFactor();
    }

    /**
     * Generates images for prompts.
     *
     * @param encoder         text encoder (width must equal the UNet's cross_attention_dim), not {@code null}
     * @param prompts         one image per prompt, not {@code null} and without {@code null} elements
     * @param negativePrompts empty or {@code null} (→ {@code ""} each), one (used for all), or one per prompt; no
     *                        {@code null} elements
     * @param options         steps, guidance, scheduler, seed, size, not {@code null}
     * @param latents         initial latents [b, 4, H/8, W/8] (before scaling by the scheduler's
     *                        init_noise_sigma), or {@code null} to draw them from {@code options.seed()}
     * @param listener        called after each denoising step, or {@code null} for none
     * @return the result; the caller closes it
     * @throws NullPointerException     naming the argument ({@code encoder}, {@code prompts}, {@code prompts[i]},
     *                                  {@code negativePrompts[i]}, {@code options}) that is {@code null}
     * @throws IllegalArgumentException on mismatched widths, counts or shapes, or steps the scheduler config does not
     *                                  fit (named; checked before the prompts are encoded)
     * @throws IllegalStateException    if the text states, a UNet or scheduler step or the VAE produce NaN or ±Inf
     *                                  (the stage is named)
     */
    public Generation generate(PromptEncoder encoder, List<String> prompts, List<String> negativePrompts,
                               GenerationOptions options, Tensor latents, ProgressListener listener) {
        Objects.requireNonNull(encoder, "encoder");
        requireNoNulls(Objects.requireNonNull(prompts, "prompts"), "prompts");
        if (negativePrompts != null) {
            requireNoNulls(negativePrompts, "negativePrompts");
        }
        Objects.requireNonNull(options, "options");
        checkWidth(encoder.width());
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        List<String> neg = negatives(prompts.size(), negativePrompts);
        schedulerConfig.checkSteps(options.scheduler(), options.steps());
        try (PointerScope scope = new PointerScope()) {
            Tensor cond = Tensors.handOff(encoder.encode(prompts)); // the scope owns it either way
            Tensor uncond = null;
            if (options.guided()) {
                uncond = Tensors.handOff(encoder.encode(neg));
            }
            return generate(cond, uncond, options, latents, listener, null);
        }
    }

    /**
     * Generates from given text states (diffusers {@code prompt_embeds} / {@code negative_prompt_embeds}).
     *
     * @param promptEmbeds   [b, 77, d], not {@code null}
     * @param negativeEmbeds [b, 77, d], or {@code null} (only allowed when guidance is off)
     * @param options        steps, guidance, scheduler, seed, size, not {@code null}
     * @param latents        as in {@link #generate(PromptEncoder, List, List, GenerationOptions, Tensor, ProgressListener)}
     * @param listener       called after each denoising step, or {@code null} for none
     * @return the result, one image per row of {@code promptEmbeds}; the caller closes it
     * @throws NullPointerException     naming {@code promptEmbeds} or {@code options} if it is {@code null}
     * @throws IllegalArgumentException on mismatched widths or shapes, missing negative states when guided, or steps
     *                                  the scheduler config does not fit (named)
     * @throws IllegalStateException    if the states, a UNet or scheduler step or the VAE produce NaN or ±Inf
     *                                  (the stage is named)
     */
    public Generation generate(Tensor promptEmbeds, Tensor negativeEmbeds, GenerationOptions options, Tensor latents,
                               ProgressListener listener) {
        return generate(promptEmbeds, negativeEmbeds, options, latents, listener, null);
    }

    /** Observes every step of a run (tests compare it with the diffusers traces). */
    interface StepObserver {
        void onStep(int i, double t, Tensor unetInput, Tensor noisePred, Tensor guided, Tensor latentsAfter);
    }

    Generation generate(Tensor promptEmbeds, Tensor negativeEmbeds, GenerationOptions options, Tensor latents,
                        ProgressListener listener, StepObserver observer) {
        Objects.requireNonNull(promptEmbeds, "promptEmbeds");
        Objects.requireNonNull(options, "options");
        ProgressListener progress = listener == null ? ProgressListener.NONE : listener;
        long[] ps = Tensors.shape(promptEmbeds);
        if (ps.length != 3) {
            throw new IllegalArgumentException("prompt_embeds must be [b, 77, d], got " + Arrays.toString(ps));
        }
        checkWidth(ps[2]);
        Finite.require(promptEmbeds, "text encoder (prompt embeddings)");
        Finite.require(negativeEmbeds, "text encoder (negative prompt embeddings)");
        long b = ps[0];
        if (options.guided()) {
            if (negativeEmbeds == null) {
                throw new IllegalArgumentException("guidance scale " + options.guidanceScale()
                        + " needs negative_prompt_embeds (or a guidance scale <= 1)");
            }
            long[] ns = Tensors.shape(negativeEmbeds);
            if (!Arrays.equals(ns, ps)) {
                throw new IllegalArgumentException("negative_prompt_embeds " + Arrays.toString(ns)
                        + " must have the shape of prompt_embeds " + Arrays.toString(ps));
            }
        }
        int f = vaeScaleFactor();
        if (options.height() % f != 0 || options.width() % f != 0) {
            throw new IllegalArgumentException("height and width must be multiples of " + f + ", got "
                    + options.height() + "x" + options.width());
        }
        long[] shape = {b, unet.config().inChannels(), options.height() / f, options.width() / f};
        Tensor current;
        // unet.device() is a new native object: closed here, also when the caller has no scope open
        try (Device device = unet.device();
             Scheduler scheduler = Scheduler.create(options.scheduler(), schedulerConfig, options.steps());
             NoGradGuard guard = new NoGradGuard()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor init = latents == null ? noise(shape, options.seed(), device) : given(latents, shape, device);
                current = init.mul(new Scalar((double) (float) scheduler.initNoiseSigma())).retainReference();
            }
            Tensor context = null;
            try {
                try (PointerScope scope = new PointerScope()) {
                    Tensor ctx = options.guided() ? Ops.cat(0, negativeEmbeds, promptEmbeds) : promptEmbeds;
                    context = ctx.to(device, unet.dtype()).retainReference();
                }
                double[] ts = scheduler.timesteps();
                long start = System.nanoTime();
                for (int i = 0; i < ts.length; i++) {
                    Tensor next;
                    try (PointerScope scope = new PointerScope()) {
                        Tensor in = options.guided() ? Ops.cat(0, current, current) : current;
                        in = scheduler.scaleModelInput(in, i);
                        Tensor noise = unet.forward(in, new double[] {ts[i]}, context).to(ScalarType.Float);
                        Tensor guided = noise;
                        if (options.guided()) {
                            TensorVector parts = noise.chunk(2);
                            Tensor u = parts.get(0);
                            Tensor c = parts.get(1);
                            guided = u.add(c.sub(u).mul(new Scalar(options.guidanceScale())));
                        }
                        next = scheduler.step(guided, i, current).prevSample();
                        // one check (one device sync) per step: the sample is a combination of the UNet output, so a
                        // NaN/Inf there shows here; only then is the stage that made it named
                        if (!Finite.all(next)) {
                            Finite.require(noise, "unet step " + (i + 1) + " of " + ts.length);
                            Finite.require(next, "scheduler step " + (i + 1) + " of " + ts.length);
                        }
                        if (observer != null) {
                            observer.onStep(i, ts[i], in, noise, guided, next);
                        }
                        next.retainReference();
                    }
                    current.close();
                    current = next;
                    long elapsed = System.nanoTime() - start;
                    long eta = elapsed / (i + 1) * (ts.length - i - 1);
                    progress.onStep(i + 1, ts.length, Duration.ofNanos(elapsed), Duration.ofNanos(eta));
                }
            } catch (RuntimeException e) {
                current.close();
                throw e;
            } finally {
                if (context != null) {
                    context.close();
                }
            }
        }
        try {
            Tensor image = decode(current);
            return new Generation(current, image);
        } catch (RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /**
     * Decodes latents one image at a time: {@code vae.decode(latents / scaling_factor)} clamped to [-1, 1].
     *
     * @param latents [b, 4, h, w]
     * @return [b, 3, h·8, w·8] float32; the caller owns it
     */
    public Tensor decode(Tensor latents) {
        try (PointerScope scope = new PointerScope(); NoGradGuard guard = new NoGradGuard()) {
            long b = latents.size(0);
            TensorVector parts = new TensorVector();
            for (long i = 0; i < b; i++) {
                Tensor one = vae.decodeLatents(latents.narrow(0, i, 1)).to(ScalarType.Float);
                Finite.require(one, "vae decode" + (b > 1 ? " (image " + (i + 1) + ")" : "")); // before the clamp hides ±Inf
                parts.push_back(one.clamp(new ScalarOptional(new Scalar(-1.0)), new ScalarOptional(new Scalar(1.0))));
            }
            return torch.cat(parts, 0).retainReference();
        }
    }

    /**
     * The initial noise for a seed: {@code torch.randn(shape, generator=torch.Generator('cpu').manual_seed(seed))}
     * in float32 (libtorch's CPU generator, the same algorithm as PyTorch), moved to {@code device}.
     */
    static Tensor noise(long[] shape, long seed, Device device) {
        Generator g = torch.make_generator_cpu(seed);
        try {
            return torch.randn(shape, new GeneratorOptional(g), Tensors.options(ScalarType.Float, Tensors.cpu()))
                    .to(device, ScalarType.Float);
        } finally {
            g.close();
        }
    }

    private static Tensor given(Tensor latents, long[] shape, Device device) {
        long[] s = Tensors.shape(latents);
        if (!Arrays.equals(s, shape)) {
            throw new IllegalArgumentException("latents must be " + Arrays.toString(shape)
                    + " (batch, channels, height/8, width/8), got " + Arrays.toString(s));
        }
        return latents.to(device, ScalarType.Float);
    }

    private void checkWidth(long d) {
        if (d != unet.config().crossAttentionDim()) {
            throw new IllegalArgumentException("text states have width " + d + " but the UNet's cross_attention_dim "
                    + "is " + unet.config().crossAttentionDim() + " (unet/config.json): the text encoder does not "
                    + "belong to this UNet");
        }
    }

    private static void requireNoNulls(List<String> list, String name) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new NullPointerException(name + "[" + i + "]");
            }
        }
    }

    private static List<String> negatives(int n, List<String> negativePrompts) {
        if (negativePrompts == null || negativePrompts.isEmpty()) {
            return java.util.Collections.nCopies(n, "");
        }
        if (negativePrompts.size() == 1) {
            return java.util.Collections.nCopies(n, negativePrompts.get(0));
        }
        if (negativePrompts.size() != n) {
            throw new IllegalArgumentException(negativePrompts.size() + " negative prompts for " + n
                    + " prompts (give none, one, or one per prompt)");
        }
        return new ArrayList<>(negativePrompts);
    }

    /** Closes the models if this pipeline loaded them. */
    @Override
    public void close() {
        if (owns) {
            unet.close();
            vae.close();
        }
    }
}
