package dev.refact.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * One denoising run's scheduler: the timesteps to call the UNet at, the input scaling, and the
 * update from the predicted noise to the next latents. Stateful (PNDM keeps a history of noise
 * predictions), so create one per run; close it to free the history.
 *
 * <p>Steps must be taken in order, {@code step(…, 0, …)}, {@code step(…, 1, …)}, ... Tensors
 * returned belong to the caller's current {@link org.bytedeco.javacpp.PointerScope}; the scheduler
 * keeps its own references to what it remembers.
 */
public interface Scheduler extends AutoCloseable {

    /**
     * A scheduler for {@code steps} inference steps.
     *
     * @param kind   the algorithm
     * @param config the training noise schedule and scheduler options
     * @param steps  inference steps N, in [1, num_train_timesteps]; for PNDM and DDIM also
     *               {@code (N − 1)·(num_train_timesteps // N) + steps_offset ≤ num_train_timesteps − 1} (with SD's
     *               steps_offset 1 and 1000 training timesteps: N ≤ 999)
     * @return a new scheduler, ready for step 0; the caller closes it
     * @throws IllegalArgumentException if {@code steps} is not in [1, num_train_timesteps], PNDM/DDIM timesteps
     *                                  would pass the last training timestep (the message names steps,
     *                                  steps_offset, num_train_timesteps and the largest count that fits), or the
     *                                  config asks for something this scheduler does not implement
     */
    static Scheduler create(SchedulerKind kind, SchedulerConfig config, int steps) {
        config.checkSteps(kind, steps);
        switch (kind) {
            case PNDM:
                return new PndmScheduler(config, steps);
            case DDIM:
                return new DdimScheduler(config, steps);
            default:
                return new EulerScheduler(config, steps);
        }
    }

    /**
     * Which algorithm.
     *
     * @return the kind this scheduler implements
     */
    SchedulerKind kind();

    /**
     * The timestep of each UNet call: DDIM N entries; PNDM N+1 entries for N ≥ 2 (the second one repeated) and a
     * single entry for N = 1 (as diffusers' {@code PNDMScheduler}: one plain step straight to the final alpha);
     * Euler N fractional entries.
     *
     * @return a fresh copy, in call order (non-increasing timesteps); its length is the number of {@link #step} calls
     */
    double[] timesteps();

    /**
     * The factor the pipeline multiplies the initial noise by (Euler: the largest sigma; else 1).
     *
     * @return the initial noise scale (1 unless overridden, as Euler does)
     */
    default double initNoiseSigma() {
        return 1.0;
    }

    /**
     * The UNet input for step {@code i}: {@code sample / sqrt(sigma² + 1)} for Euler, the sample
     * itself otherwise.
     *
     * @param sample [B, C, h, w]
     * @param i      the step index, 0-based, into {@link #timesteps()}
     * @return [B, C, h, w]: {@code sample} itself, or (Euler) a new tensor in the caller's current scope
     * @throws IllegalArgumentException (Euler) if {@code i} is not an index into {@link #timesteps()}
     */
    default Tensor scaleModelInput(Tensor sample, int i) {
        return sample;
    }

    /**
     * Advances from step {@code i}.
     *
     * @param modelOutput the (guided) UNet prediction [B, C, h, w]
     * @param i           the step index, in order from 0
     * @param sample      the current latents [B, C, h, w]
     * @return the next latents and the predicted x0, new tensors in the caller's current scope (x0 may be
     *         {@code modelOutput} itself for {@code prediction_type} {@code sample})
     * @throws IllegalStateException when steps are taken out of order
     */
    StepOutput step(Tensor modelOutput, int i, Tensor sample);

    /** Frees any remembered tensors. */
    @Override
    void close();

    /**
     * The result of one step.
     *
     * @param prevSample          the latents for the next step [B, C, h, w]
     * @param predOriginalSample  the predicted clean latents x0, or {@code null} (PNDM does not form it)
     */
    record StepOutput(Tensor prevSample, Tensor predOriginalSample) {
    }
}
