package dev.refact.core;

/**
 * What {@link Hyperparameters#maxSteps()} ({@code v_max_grad_steps}) counts.
 *
 * <p>The v* search measures p(target) before each Adam update and stops when it exceeds the threshold.
 * This library counts Adam updates: {@code maxSteps = 100} allows 100 updates (101 measurements, the last
 * one only measures). The released ReFACT code counts loop iterations: its {@code v_max_grad_steps = 100}
 * runs 100 iterations and breaks before the update of the last one, i.e. at most 99 Adam updates.
 */
public enum StepCounting {
    /** {@code maxSteps} Adam updates at most (this library's default). */
    ADAM_UPDATES,
    /** {@code maxSteps} loop iterations, i.e. at most {@code maxSteps − 1} Adam updates (the released code). */
    LOOP_ITERATIONS
}
