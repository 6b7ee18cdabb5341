package dev.refact.core;

import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Step 3 of ReFACT, the closed-form rank-one update in ROME form, computed in float64:
 * <pre>
 *   u = C⁻¹k̄ / ‖C⁻¹k̄‖                 [i]
 *   r = (v* − v_b) / (k_bᵀ u)          [d]
 *   W_fc2 ← W_fc2 + r uᵀ               [d,i]
 * </pre>
 * so that {@code W' k_b + b = v*} exactly (up to rounding) while keys orthogonal to C⁻¹k̄ in the C-metric
 * are untouched.
 */
final class RankOneUpdate {
    private RankOneUpdate() {
    }

    /**
     * The two factors of the update. Owns its tensors privately (float64, on the statistics' device); handed to the
     * caller as one unit ({@code Tensors.handOffOwner}).
     *
     * @param u           [i] unit direction C⁻¹k̄/‖C⁻¹k̄‖
     * @param r           [d] (v* − v_b)/(k_bᵀu)
     * @param denominator k_bᵀu
     */
    record Factors(Tensor u, Tensor r, double denominator) implements AutoCloseable {
        @Override
        public void close() {
            u.close();
            r.close();
        }
    }

    /**
     * Computes u and r, solving C⁻¹k̄ here (for callers that have not).
     *
     * @param stats C at the edited layer
     * @param kMean k̄ [i], the mean key over the context templates
     * @param kBare k_b [i], the key at the bare prompt's last subject token
     * @param vBare v_b [d], fc2 output there (W k_b + b)
     * @param vStar v* [d], the optimised value
     * @throws IllegalStateException if C⁻¹k̄ is zero, k_bᵀu is zero or not finite, or r is not finite
     */
    static Factors compute(CovarianceStats stats, Tensor kMean, Tensor kBare, Tensor vBare, Tensor vStar) {
        Tensor direction;
        try (PointerScope scope = new PointerScope()) {
            direction = KeyComputer.direction(stats, kMean).retainReference();
        }
        try {
            return compute(direction, kBare, vBare, vStar);
        } finally {
            direction.close();
        }
    }

    /**
     * Computes r for a direction the editor already solved ({@link KeyComputer#direction}), and hands out both.
     *
     * @param direction u [i] float64, C⁻¹k̄/‖C⁻¹k̄‖ (copied into the factors)
     * @param kBare     k_b [i], the key at the bare prompt's last subject token
     * @param vBare     v_b [d], fc2 output there (W k_b + b)
     * @param vStar     v* [d], the optimised value
     * @throws IllegalStateException if k_bᵀu is zero or not finite, or r is not finite
     */
    static Factors compute(Tensor direction, Tensor kBare, Tensor vBare, Tensor vStar) {
        Factors f;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor u = direction.detach().clone();
            Tensor kb = kBare.detach().to(u.device(), torch.ScalarType.Double);
            double denom = kb.dot(u).item_double();
            if (denom == 0 || !Double.isFinite(denom)) {
                throw new IllegalStateException("k_bᵀu = " + denom + ": the bare prompt's key is orthogonal to the "
                        + "edit direction, so no rank-one update can reach v*");
            }
            Tensor r = vStar.detach().to(u.device(), torch.ScalarType.Double)
                    .sub(vBare.detach().to(u.device(), torch.ScalarType.Double))
                    .div(new org.bytedeco.pytorch.Scalar(denom));
            if (!torch.isfinite(r).all().item_bool()) {
                throw new IllegalStateException("the update vector r is not finite");
            }
            f = new Factors(u.retainReference(), r.retainReference(), denom);
        }
        return Tensors.handOffOwner(f);
    }
}
