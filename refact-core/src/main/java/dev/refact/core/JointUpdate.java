package dev.refact.core;

import dev.refact.clip.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The closed form of a joint edit, in float64 (EJML): for rows j = 1..n (requests, then protected keys)
 * <pre>
 *   (W + Σ_i r_i u_iᵀ) k_b,j + b = v*_j   ⇔   Σ_i (u_iᵀ k_b,j) r_i = v*_j − v_b,j   ⇔   A R = D
 *   A [n,n], A_ji = u_iᵀ k_b,j;   R [n,d_out], row i = r_i;   D [n,d_out], row j = v*_j − v_b,j
 * </pre>
 * Exact: R = A⁻¹D. Ridge λ &gt; 0: R = (AᵀA + λ·s·I)⁻¹AᵀD with s = trace(AᵀA)/n (λ is relative to the mean
 * squared singular value of A, so it does not depend on the scale of the keys). For n = 1 the exact form is
 * ReFACT's r = (v* − v_b)/(k_bᵀu).
 */
final class JointUpdate {
    private JointUpdate() {
    }

    /** A_ji = u_iᵀ k_b,j for float32 u [n][i] and k_b [n][i], accumulated in float64. */
    static DMatrixRMaj systemMatrix(float[][] u, float[][] kBare) {
        int n = u.length;
        DMatrixRMaj a = new DMatrixRMaj(n, n);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                double s = 0;
                float[] ui = u[i];
                float[] kj = kBare[j];
                for (int x = 0; x < ui.length; x++) {
                    s += (double) ui[x] * kj[x];
                }
                a.set(j, i, s);
            }
        }
        return a;
    }

    /** Singular values of A, descending. */
    static double[] singularValues(DMatrixRMaj a) {
        DMatrixRMaj w = svd(a)[1];
        double[] s = new double[a.numRows];
        for (int i = 0; i < s.length; i++) {
            s[i] = w.get(i, i);
        }
        return s;
    }

    /** U, W, V of A's SVD with the singular values in descending order. */
    private static DMatrixRMaj[] svd(DMatrixRMaj a) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(a.numRows, a.numCols,
                true, true, false);
        if (!svd.decompose(a.copy())) {
            throw new IllegalStateException("the SVD of the joint system did not converge");
        }
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj uu = svd.getU(null, false);
        DMatrixRMaj vv = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(uu, false, w, vv, false);
        return new DMatrixRMaj[] {uu, w, vv};
    }

    /** The 2-norm condition number σ_max/σ_min of A (infinite when A is singular). */
    static double conditionNumber(DMatrixRMaj a) {
        double[] s = singularValues(a);
        double min = s[s.length - 1];
        return min > 0 ? s[0] / min : Double.POSITIVE_INFINITY;
    }

    /**
     * The rows involved in A's near-singularity: those whose entry in the left or right singular vector of the
     * smallest singular value is at least a quarter of that vector's largest entry (at least two rows).
     */
    static List<Integer> weakestRows(DMatrixRMaj a) {
        int n = a.numRows;
        DMatrixRMaj[] usv = svd(a);
        DMatrixRMaj uu = usv[0];
        DMatrixRMaj vv = usv[2];
        double[] weight = new double[n];
        double max = 0;
        for (int j = 0; j < n; j++) {
            weight[j] = Math.max(Math.abs(uu.get(j, n - 1)), Math.abs(vv.get(j, n - 1)));
            max = Math.max(max, weight[j]);
        }
        List<Integer> rows = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            if (weight[j] >= 0.25 * max) {
                rows.add(j);
            }
        }
        return rows;
    }

    /**
     * Solves for R.
     *
     * @param d     D [n][d_out]
     * @param ridge λ ≥ 0 (0 = exact solve)
     * @return R [n][d_out]
     * @throws IllegalStateException if the system is singular (exact solve) or the result is not finite
     */
    static double[][] solve(DMatrixRMaj a, double[][] d, double ridge) {
        int n = a.numRows;
        int out = d[0].length;
        DMatrixRMaj rhs = new DMatrixRMaj(d);
        DMatrixRMaj r = new DMatrixRMaj(n, out);
        boolean ok;
        if (ridge > 0) {
            DMatrixRMaj ata = new DMatrixRMaj(n, n);
            CommonOps_DDRM.multTransA(a, a, ata);
            double s = CommonOps_DDRM.trace(ata) / n;
            for (int i = 0; i < n; i++) {
                ata.add(i, i, ridge * s);
            }
            DMatrixRMaj atd = new DMatrixRMaj(n, out);
            CommonOps_DDRM.multTransA(a, rhs, atd);
            ok = CommonOps_DDRM.solve(ata, atd, r);
        } else {
            ok = CommonOps_DDRM.solve(a.copy(), rhs, r);
        }
        double[][] result = new double[n][out];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < out; c++) {
                double v = r.get(i, c);
                if (!ok || !Double.isFinite(v)) {
                    throw new IllegalStateException("the joint system is singular: no update makes every request hold "
                            + "(use a ridge λ > 0 for the least-squares compromise)");
                }
                result[i][c] = v;
            }
        }
        return result;
    }

    /**
     * Applies {@code W ← W + Σ_i r_i u_iᵀ} to the model's weight, journalled as {@code changeId}: one row as the
     * single edit's rank-one update (so a one-request joint edit equals a single edit bit for bit), more as
     * {@code ClipTextModel.applyLowRankUpdate}. The editor and {@link SavedJointEdit#apply} both call this, so an
     * applied file reproduces the editor's weights bit for bit.
     *
     * @param r [k][d_out]
     * @param u [k][d_in]
     */
    static void apply(dev.refact.clip.ClipTextModel model, String weightName, float[][] r, float[][] u,
                      String changeId) {
        try (PointerScope scope = new PointerScope()) {
            if (r.length == 1) {
                model.applyRankOneUpdate(weightName, Tensors.floats(r[0], model.device(), r[0].length),
                        Tensors.floats(u[0], model.device(), u[0].length), changeId);
            } else {
                model.applyLowRankUpdate(weightName, factor(r, model.device()), factor(u, model.device()), changeId);
            }
        }
    }

    /** Rows as one float32 tensor [k,d] on {@code device}, in the caller's scope. */
    private static Tensor factor(float[][] rows, org.bytedeco.pytorch.Device device) {
        return Tensors.floats(flatten(rows), device, rows.length, rows[0].length);
    }

    /**
     * A deep copy of rows.
     *
     * @param rows [k][d]
     * @return new arrays with the same values
     */
    static float[][] copy(float[][] rows) {
        float[][] c = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            c[i] = rows[i].clone();
        }
        return c;
    }

    static float[] flatten(float[][] rows) {
        int w = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != w) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, expected " + w);
            }
            System.arraycopy(rows[i], 0, flat, i * w, w);
        }
        return flat;
    }
}
