package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * EJML (float64, pure Java, independent of libtorch) as the oracle for the libtorch Cholesky solve of
 * {@link CovarianceStats#solve}: a covariance of random keys (as {@code compute} builds it, E[k kᵀ]) at a size
 * where a hand-written elimination would be the only other check.
 */
final class CovarianceStatsEjmlOracleTest {
    private static final StatsProvenance PROV = new StatsProvenance("fp", 3, "test", "", 400, "float64");
    static Device cpu;

    @BeforeAll
    static void runtime() {
        TorchRuntime.ensureLoaded();
        cpu = Tensors.cpu();
    }

    /** C = (1/n) Σ k kᵀ over n random keys of dimension dim (row-major), like the statistics of one layer. */
    static DMatrixRMaj covariance(int dim, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        DMatrixRMaj keys = new DMatrixRMaj(n, dim);
        for (int i = 0; i < keys.data.length; i++) {
            keys.data[i] = rnd.nextGaussian() * (1 + (i % dim) / 16.0);   // unequal scales: a realistic condition
        }
        DMatrixRMaj c = new DMatrixRMaj(dim, dim);
        CommonOps_DDRM.multTransA(keys, keys, c);
        CommonOps_DDRM.scale(1.0 / n, c);
        return c;
    }

    private static double[] solveWithTorch(DMatrixRMaj c, double damping, double[] k) {
        try (PointerScope scope = new PointerScope(); Tensor t = Tensors.doubles(c.data, cpu, c.numRows, c.numCols);
             CovarianceStats stats = CovarianceStats.fromMatrix(t, 3, 400, PROV, cpu);
             CovarianceStats damped = stats.withDamping(damping)) {
            return Tensors.toDoubles(damped.solve(Tensors.doubles(k, cpu, k.length)));
        }
    }

    private static double[] solveWithEjml(DMatrixRMaj c, double damping, double[] k) {
        DMatrixRMaj a = c.copy();
        double lambda = damping * CommonOps_DDRM.trace(c) / c.numRows;     // λ · mean(diag C)
        for (int i = 0; i < a.numRows; i++) {
            a.add(i, i, lambda);
        }
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.chol(a.numRows);
        assertTrue(chol.setA(a), "EJML: C + λ·mean(diag C)·I is positive definite");
        DMatrixRMaj x = new DMatrixRMaj(a.numRows, 1);
        chol.solve(new DMatrixRMaj(k.length, 1, true, k), x);
        return x.data;
    }

    @Test
    void solve_covarianceOfRandomKeys_matchesEjmlCholeskyToRoundOff() {
        int dim = 96;
        DMatrixRMaj c = covariance(dim, 400, 7);
        double cond = NormOps_DDRM.conditionP2(c);
        assertTrue(cond > 10 && cond < 1e6, "a moderately conditioned C (κ₂ = " + cond + ")");
        double[] k = new SplittableRandom(8).doubles(dim, -1, 1).toArray();
        double[] expected = solveWithEjml(c, 0.0, k);
        double[] actual = solveWithTorch(c, 0.0, k);
        double tol = 1e-12 * cond * NormOps_DDRM.normP2(new DMatrixRMaj(dim, 1, true, expected));
        for (int i = 0; i < dim; i++) {
            assertEquals(expected[i], actual[i], tol, "x[" + i + "]");
        }
    }

    @Test
    void solve_rankDeficientCovarianceWithDamping_matchesEjmlOnTheDampedSystem() {
        int dim = 64;
        DMatrixRMaj c = covariance(dim, 40, 9);    // 40 keys in 64 dimensions: C is singular without damping
        double[] k = new SplittableRandom(10).doubles(dim, -1, 1).toArray();
        double[] expected = solveWithEjml(c, 0.05, k);
        double[] actual = solveWithTorch(c, 0.05, k);
        for (int i = 0; i < dim; i++) {
            assertEquals(expected[i], actual[i], 1e-9 * (1 + Math.abs(expected[i])), "x[" + i + "]");
        }
    }
}
