package dev.refact.core;

import java.util.Objects;

/**
 * An earlier edit whose output must stay fixed: a later joint edit adds the constraint
 * {@code (W + ΔW) k_b + b = W k_b + b} (its current value) and a row {@code r uᵀ} along this key's direction.
 * Take them from {@link JointEditResult#protectedKeys()}.
 *
 * @param changeId the earlier edit's change id (for messages and provenance)
 * @param request  the earlier request
 * @param layer    the edited layer
 * @param u        [d_in] the earlier edit's direction C⁻¹k̄/‖C⁻¹k̄‖
 * @param kBar     [d_in] its mean template key k̄
 * @param kBare    [d_in] its bare-subject key k_b
 */
public record ProtectedKey(String changeId, EditRequest request, int layer, float[] u, float[] kBar, float[] kBare) {
    /**
     * Copies and checks the vectors.
     *
     * @param changeId the earlier edit's change id, not null
     * @param request  the earlier request, not null
     * @param layer    the edited layer (checked against the editor's when used)
     * @param u        [d_in] direction, finite (copied)
     * @param kBar     [d_in] mean template key, finite (copied)
     * @param kBare    [d_in] bare-subject key, finite (copied)
     * @throws IllegalArgumentException if the vectors differ in length or are not finite
     */
    public ProtectedKey {
        Objects.requireNonNull(changeId, "changeId");
        Objects.requireNonNull(request, "request");
        u = u.clone();
        kBar = kBar.clone();
        kBare = kBare.clone();
        if (u.length != kBare.length || kBar.length != kBare.length || u.length == 0) {
            throw new IllegalArgumentException("protected key " + changeId + ": u, k̄ and k_b must have the same "
                    + "length, got " + u.length + ", " + kBar.length + ", " + kBare.length);
        }
        for (float[] a : new float[][] {u, kBar, kBare}) {
            for (float x : a) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("protected key " + changeId + " has non-finite values");
                }
            }
        }
    }

    /**
     * u [d_in] (a copy).
     *
     * @return a new float32 array of length d_in
     */
    @Override
    public float[] u() {
        return u.clone();
    }

    /**
     * k̄ [d_in] (a copy).
     *
     * @return a new float32 array of length d_in
     */
    @Override
    public float[] kBar() {
        return kBar.clone();
    }

    /**
     * k_b [d_in] (a copy).
     *
     * @return a new float32 array of length d_in
     */
    @Override
    public float[] kBare() {
        return kBare.clone();
    }
}
