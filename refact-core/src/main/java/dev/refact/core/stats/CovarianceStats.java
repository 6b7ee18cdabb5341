package dev.refact.core.stats;

import dev.refact.clip.torch.Tensors;
import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The uncentered second moment {@code C = E[k kᵀ]} of fc2 inputs (keys) at one layer of a text encoder,
 * with a cached Cholesky factorisation for solving {@code C x = k}.
 *
 * <p>Shapes: {@code C} is [i,i] (i = MLP width, 3072 for SD 1.x), stored in float64. The factorisation
 * is computed once, on first use, in float64 on the matrix's device, after adding the damping
 * {@code λ·mean(diag C)·I} when {@code damping λ > 0}.
 *
 * <p>Owns native memory: close it.
 */
public final class CovarianceStats implements AutoCloseable {
    private final Tensor matrix;         // [i,i] float64, C
    private final int layer;
    private final long count;
    private final StatsProvenance provenance;
    private final double damping;
    private Tensor cholesky;              // lower-triangular factor of C + damping, lazily

    CovarianceStats(Tensor matrix, int layer, long count, StatsProvenance provenance, double damping) {
        this.matrix = matrix;
        this.layer = layer;
        this.count = count;
        this.provenance = Objects.requireNonNull(provenance, "provenance");
        if (!(damping >= 0) || Double.isInfinite(damping)) {
            throw new IllegalArgumentException("damping must be a finite number >= 0, got " + damping);
        }
        this.damping = damping;
    }

    /**
     * Statistics from a given matrix C (copied to float64 on {@code device}).
     *
     * @param c          [i,i] symmetric positive (semi-)definite matrix (the mean of k kᵀ, not the sum)
     * @param layer      layer the keys were taken at
     * @param count      number of keys averaged (informational)
     * @param provenance where C came from
     * @throws IllegalArgumentException if C is not square, not finite or not symmetric
     */
    public static CovarianceStats fromMatrix(Tensor c, int layer, long count, StatsProvenance provenance,
                                             Device device) {
        long[] s = Tensors.shape(c);
        if (s.length != 2 || s[0] != s[1] || s[0] == 0) {
            throw new IllegalArgumentException("covariance matrix must be square [i,i], got " + Arrays.toString(s));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = c.detach().to(device, torch.ScalarType.Double).clone();
            if (!torch.isfinite(m).all().item_bool()) {
                throw new IllegalArgumentException("covariance matrix has non-finite entries");
            }
            double asym = m.sub(m.t()).abs().max().item_double();
            double scale = Math.max(m.abs().max().item_double(), Double.MIN_NORMAL);
            if (asym > 1e-6 * scale) {
                throw new IllegalArgumentException("covariance matrix is not symmetric (max |C − Cᵀ| = " + asym + ")");
            }
            return new CovarianceStats(m.retainReference(), layer, count, provenance, 0.0);
        }
    }

    /** The layer whose fc2 inputs these are. */
    public int layer() {
        return layer;
    }

    /** The key width i. */
    public int dim() {
        return (int) matrix.size(0);
    }

    /** How many keys were averaged. */
    public long count() {
        return count;
    }

    /** Where the statistics came from. */
    public StatsProvenance provenance() {
        return provenance;
    }

    /** The damping λ in {@code C + λ·mean(diag C)·I}. */
    public double damping() {
        return damping;
    }

    /** A short identifier: provenance id plus damping, recorded with every edit. */
    public String id() {
        return provenance.id() + (damping > 0 ? "+damping=" + damping : "");
    }

    /** The matrix C [i,i] float64 (owned by this object: do not close). */
    public Tensor matrix() {
        return matrix;
    }

    /**
     * A view with another damping λ sharing nothing mutable with this one (the matrix is copied).
     */
    public CovarianceStats withDamping(double lambda) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            return new CovarianceStats(matrix.clone().retainReference(), layer, count, provenance, lambda);
        }
    }

    /**
     * Solves {@code (C + λ·mean(diag C)·I) x = k} with the cached Cholesky factor.
     *
     * @param k [i] key (any float dtype, any device)
     * @return x [i] float64 on the matrix's device (belongs to the caller's scope, see {@code Tensors.handOff})
     * @throws IllegalArgumentException if k has the wrong length or is not finite
     * @throws IllegalStateException    if C is singular or not positive definite (names the layer and
     *                                  suggests damping)
     */
    public synchronized Tensor solve(Tensor k) {
        if (k.dim() != 1 || k.size(0) != dim()) {
            throw new IllegalArgumentException("key must be [" + dim() + "], got " + Tensors.shapeString(k));
        }
        Tensor out;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor kk = k.detach().to(matrix.device(), torch.ScalarType.Double);
            if (!torch.isfinite(kk).all().item_bool()) {
                throw new IllegalArgumentException("key has non-finite entries");
            }
            Tensor l = factor();
            Tensor x = torch.cholesky_solve(kk.unsqueeze(1), l, false).squeeze(1);
            if (!torch.isfinite(x).all().item_bool()) {
                throw new IllegalStateException(singularMessage("the solve produced non-finite values"));
            }
            out = x.retainReference();
        }
        return Tensors.handOff(out);
    }

    private Tensor factor() {
        if (cholesky == null) {
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor m = matrix;
                if (damping > 0) {
                    double mean = matrix.diagonal().mean().item_double();
                    Tensor eye = torch.eye(dim(), Tensors.options(torch.ScalarType.Double, matrix.device()));
                    m = matrix.add(eye.mul(new Scalar(damping * mean)));
                }
                Tensor l;
                try {
                    l = torch.linalg_cholesky(m);
                } catch (RuntimeException e) {
                    throw new IllegalStateException(singularMessage(firstLine(e.getMessage())), e);
                }
                cholesky = l.retainReference();
            }
        }
        return cholesky;
    }

    private String singularMessage(String why) {
        return "covariance statistics for layer " + layer + " (" + provenance.id() + ", " + count
                + " keys) are singular or not positive definite: " + why
                + "; use more samples or a damping > 0 (Hyperparameters.covarianceDamping)";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "factorisation failed";
        }
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    @Override
    public synchronized void close() {
        matrix.close();
        if (cholesky != null) {
            cholesky.close();
            cholesky = null;
        }
    }
}
