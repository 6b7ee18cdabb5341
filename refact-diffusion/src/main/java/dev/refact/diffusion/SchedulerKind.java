package dev.refact.diffusion;

import java.util.Locale;

/** The denoising schedulers this port implements (diffusers v0.14 semantics). */
public enum SchedulerKind {
    /**
     * {@code PNDMScheduler} with {@code skip_prk_steps} (PLMS): SD 1.4's default; N ≥ 2 steps = N+1 UNet calls,
     * 1 step = 1 call (as diffusers).
     */
    PNDM,
    /** {@code DDIMScheduler}, eta 0 (deterministic). */
    DDIM,
    /** {@code EulerDiscreteScheduler} (no churn): scales the initial noise by the largest sigma. */
    EULER;

    /**
     * Parses {@code pndm}, {@code ddim} or {@code euler} (case-insensitive).
     *
     * @param name the scheduler name; surrounding whitespace is ignored
     * @return the matching kind
     * @throws IllegalArgumentException for any other name
     */
    public static SchedulerKind parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown scheduler '" + name + "': use pndm, ddim or euler");
        }
    }
}
