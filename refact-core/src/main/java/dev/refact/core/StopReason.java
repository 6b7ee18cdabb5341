package dev.refact.core;

/** Why the v* search stopped. */
public enum StopReason {
    /** Mean p(target) over the rewriting prompts exceeded the threshold. */
    CONVERGED,
    /** The step cap was reached first. */
    STEP_CAP
}
