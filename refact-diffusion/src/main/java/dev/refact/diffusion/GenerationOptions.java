package dev.refact.diffusion;

/**
 * Settings of one text-to-image run (diffusers {@code StableDiffusionPipeline.__call__} names in
 * brackets).
 *
 * @param steps         denoising steps ({@code num_inference_steps}, default 50; PNDM makes steps+1 UNet calls)
 * @param guidanceScale classifier-free guidance scale ({@code guidance_scale}, default 7.5; ≤ 1 turns guidance off)
 * @param scheduler     PNDM (default, SD 1.4's), DDIM or Euler
 * @param seed          seed of the initial noise: {@code torch.randn([b, 4, h, w], generator=Generator('cpu').manual_seed(seed))},
 *                      so a seed gives the same latents as diffusers with a CPU generator
 * @param height        image height in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}] (default 512)
 * @param width         image width in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}] (default 512)
 */
public record GenerationOptions(int steps, double guidanceScale, SchedulerKind scheduler, long seed, int height,
                                int width) {

    /**
     * Largest height or width: 2048 px (SD 1.x was trained at 512; a 2048² image already needs 65,536 latent
     * positions per attention layer). Checked before anything is allocated.
     */
    public static final int MAX_SIDE = 2048;

    /** Validates. */
    public GenerationOptions {
        if (steps < 1 || steps > 1000) {
            throw new IllegalArgumentException("steps must be in [1, 1000], got " + steps);
        }
        if (!Double.isFinite(guidanceScale) || guidanceScale < 0) {
            throw new IllegalArgumentException("guidance scale must be a finite number >= 0, got " + guidanceScale);
        }
        if (scheduler == null) {
            throw new IllegalArgumentException("scheduler is null");
        }
        if (height < 8 || width < 8 || height % 8 != 0 || width % 8 != 0) {
            throw new IllegalArgumentException("height and width must be positive multiples of 8, got " + height + "x"
                    + width);
        }
        if (height > MAX_SIDE || width > MAX_SIDE) {
            throw new IllegalArgumentException("height and width must be at most " + MAX_SIDE + " px, got " + height
                    + "x" + width);
        }
    }

    /** 50 PNDM steps, guidance 7.5, seed 0, 512×512. */
    public static GenerationOptions defaults() {
        return new GenerationOptions(50, 7.5, SchedulerKind.PNDM, 0, 512, 512);
    }

    /** Whether classifier-free guidance runs (scale > 1, as diffusers). */
    public boolean guided() {
        return guidanceScale > 1.0;
    }

    /** A copy with another step count. */
    public GenerationOptions withSteps(int v) {
        return new GenerationOptions(v, guidanceScale, scheduler, seed, height, width);
    }

    /** A copy with another guidance scale. */
    public GenerationOptions withGuidanceScale(double v) {
        return new GenerationOptions(steps, v, scheduler, seed, height, width);
    }

    /** A copy with another scheduler. */
    public GenerationOptions withScheduler(SchedulerKind v) {
        return new GenerationOptions(steps, guidanceScale, v, seed, height, width);
    }

    /** A copy with another seed. */
    public GenerationOptions withSeed(long v) {
        return new GenerationOptions(steps, guidanceScale, scheduler, v, height, width);
    }

    /** A copy with another size. */
    public GenerationOptions withSize(int h, int w) {
        return new GenerationOptions(steps, guidanceScale, scheduler, seed, h, w);
    }
}
