package dev.refact.diffusion;

/**
 * Settings of one text-to-image run (diffusers {@code StableDiffusionPipeline.__call__} names in
 * brackets).
 *
 * @param steps         denoising steps ({@code num_inference_steps}, default 50; PNDM makes steps+1 UNet calls
 *                      for steps ≥ 2 and one call for 1 step; PNDM and DDIM also need their timesteps to fit the
 *                      scheduler config: with SD's steps_offset 1, at most 999 steps)
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

    /**
     * Validates.
     *
     * @param steps         denoising steps, in [1, 1000] (the scheduler config may allow fewer: see
     *                      {@link Scheduler#create})
     * @param guidanceScale guidance scale, finite and ≥ 0
     * @param scheduler     the scheduler, not {@code null}
     * @param seed          seed of the initial noise (any value)
     * @param height        image height in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}]
     * @param width         image width in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}]
     * @throws IllegalArgumentException if a value is out of range (named)
     */
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

    /**
     * 50 PNDM steps, guidance 7.5, seed 0, 512×512.
     *
     * @return the defaults (SD 1.4's pipeline defaults, seed 0)
     */
    public static GenerationOptions defaults() {
        return new GenerationOptions(50, 7.5, SchedulerKind.PNDM, 0, 512, 512);
    }

    /**
     * Whether classifier-free guidance runs (scale > 1, as diffusers).
     *
     * @return {@code true} if {@code guidanceScale > 1}: each step then runs the UNet on the negative and the
     *         positive batch
     */
    public boolean guided() {
        return guidanceScale > 1.0;
    }

    /**
     * A copy with another step count.
     *
     * @param v denoising steps, in [1, 1000]
     * @return a new options record; this one is unchanged
     */
    public GenerationOptions withSteps(int v) {
        return new GenerationOptions(v, guidanceScale, scheduler, seed, height, width);
    }

    /**
     * A copy with another guidance scale.
     *
     * @param v guidance scale, finite and ≥ 0 (≤ 1 turns guidance off)
     * @return a new options record; this one is unchanged
     */
    public GenerationOptions withGuidanceScale(double v) {
        return new GenerationOptions(steps, v, scheduler, seed, height, width);
    }

    /**
     * A copy with another scheduler.
     *
     * @param v the scheduler, not {@code null}
     * @return a new options record; this one is unchanged
     */
    public GenerationOptions withScheduler(SchedulerKind v) {
        return new GenerationOptions(steps, guidanceScale, v, seed, height, width);
    }

    /**
     * A copy with another seed.
     *
     * @param v seed of the initial noise
     * @return a new options record; this one is unchanged
     */
    public GenerationOptions withSeed(long v) {
        return new GenerationOptions(steps, guidanceScale, scheduler, v, height, width);
    }

    /**
     * A copy with another size.
     *
     * @param h image height in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}]
     * @param w image width in pixels, a multiple of 8 in [8, {@value #MAX_SIDE}]
     * @return a new options record; this one is unchanged
     * @throws IllegalArgumentException if a side is out of range
     */
    public GenerationOptions withSize(int h, int w) {
        return new GenerationOptions(steps, guidanceScale, scheduler, seed, h, w);
    }
}
