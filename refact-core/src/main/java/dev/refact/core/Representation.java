package dev.refact.core;

/** Which end-token embedding v* search compares. */
public enum Representation {
    /** {@code text_projection(pooled)} ({@code get_text_features}); falls back to pooled without a projection. */
    PROJECTED,
    /** The pooled end-token hidden state (after the final LayerNorm). */
    POOLED
}
