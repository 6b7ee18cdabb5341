package dev.refact.diffusion;

import java.time.Duration;

/** Called after each denoising step (on the generating thread). */
@FunctionalInterface
public interface ProgressListener {
    /** Does nothing. */
    ProgressListener NONE = (step, total, elapsed, eta) -> { };

    /**
     * @param step    steps done so far (1-based)
     * @param total   UNet calls in the run
     * @param elapsed time since the loop started
     * @param eta     estimated time left (mean step time × steps left)
     */
    void onStep(int step, int total, Duration elapsed, Duration eta);
}
