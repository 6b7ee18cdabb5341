package dev.refact.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Options of a joint edit ({@link Editor#editJointly(dev.refact.clip.ClipTextModel, List, JointOptions)}).
 *
 * @param ridge         λ ≥ 0. 0 (default): every request must hold exactly, conflicts are refused. λ &gt; 0: the
 *                      soft least-squares solution {@code (AᵀA + λ·trace(AᵀA)/n·I)⁻¹AᵀD} (approximate edits;
 *                      nothing is refused for conflicts)
 * @param maxCondition  the largest accepted 2-norm condition number of the n×n system A (default
 *                      {@value #DEFAULT_MAX_CONDITION}); above it the edit is refused as ill-conditioned
 * @param protectedKeys earlier edits whose bare-subject outputs must stay at their current values
 */
public record JointOptions(double ridge, double maxCondition, List<ProtectedKey> protectedKeys) {
    /**
     * Default condition limit. A condition number κ means that the update vectors can be up to κ times larger than
     * those of the separate edits (they cancel on the requests' keys but not on other keys), and float32 weights
     * keep about 7 digits: 1e4 leaves the residuals at float precision and refuses near-duplicate subjects.
     */
    public static final double DEFAULT_MAX_CONDITION = 1e4;

    /**
     * Validates.
     *
     * @param ridge         λ, finite and &ge; 0 (0 = exact)
     * @param maxCondition  condition limit, &gt; 1
     * @param protectedKeys keys to keep fixed, possibly empty (copied; not null, no null elements)
     * @throws IllegalArgumentException if ridge is negative or not finite, or maxCondition is not &gt; 1
     * @throws NullPointerException     if {@code protectedKeys} or one of its elements is null
     */
    public JointOptions {
        if (!(ridge >= 0) || Double.isInfinite(ridge)) {
            throw new IllegalArgumentException("ridge λ must be a finite number >= 0, got " + ridge);
        }
        if (!(maxCondition > 1)) {
            throw new IllegalArgumentException("maximum condition number must be > 1, got " + maxCondition);
        }
        protectedKeys = List.copyOf(protectedKeys);
    }

    /**
     * Exact solve, default condition limit, nothing protected.
     *
     * @return ridge 0, {@link #DEFAULT_MAX_CONDITION}, no protected keys
     */
    public static JointOptions defaults() {
        return new JointOptions(0, DEFAULT_MAX_CONDITION, List.of());
    }

    /**
     * A copy with ridge λ.
     *
     * @param value λ, finite and &ge; 0 (0 = exact, conflicts refused)
     * @return new options with the other fields unchanged
     * @throws IllegalArgumentException if {@code value} is negative or not finite
     */
    public JointOptions withRidge(double value) {
        return new JointOptions(value, maxCondition, protectedKeys);
    }

    /**
     * A copy with another condition limit.
     *
     * @param value the largest accepted condition number, &gt; 1
     * @return new options with the other fields unchanged
     * @throws IllegalArgumentException if {@code value} is not &gt; 1
     */
    public JointOptions withMaxCondition(double value) {
        return new JointOptions(ridge, value, protectedKeys);
    }

    /**
     * A copy protecting {@code keys} in addition to the keys already protected.
     *
     * @param keys more keys to keep fixed, e.g. {@link JointEditResult#protectedKeys()} of earlier edits
     * @return new options whose protected keys are the current ones followed by {@code keys}
     */
    public JointOptions protecting(List<ProtectedKey> keys) {
        List<ProtectedKey> all = new ArrayList<>(protectedKeys);
        all.addAll(keys);
        return new JointOptions(ridge, maxCondition, all);
    }
}
