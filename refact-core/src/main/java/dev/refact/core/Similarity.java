package dev.refact.core;

/** How v* search scores a prompt's representation against a candidate's. */
public enum Similarity {
    /** {@code logit = −‖e − c‖₂} (no temperature): the paper's default. */
    L2,
    /** {@code logit = 100 · cos(e, c)}. */
    COSINE
}
