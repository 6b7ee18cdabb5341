package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

final class CovarianceStatsSolveTest {
    private static final StatsProvenance PROV = new StatsProvenance("fp", 0, "test", "", 10, "float64");
    static Device cpu;

    @BeforeAll
    static void runtime() {
        TorchRuntime.ensureLoaded();
        cpu = Tensors.cpu();
    }

    static CovarianceStats stats(double[] c, int dim) {
        try (Tensor t = Tensors.doubles(c, cpu, dim, dim)) {
            return CovarianceStats.fromMatrix(t, 0, 10, PROV, cpu);
        }
    }

    /** Gaussian elimination with partial pivoting, in Java doubles. */
    static double[] gauss(double[] a, double[] b, int n) {
        double[][] m = new double[n][n + 1];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n, m[i], 0, n);
            m[i][n] = b[i];
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
                    piv = r;
                }
            }
            double[] t = m[col];
            m[col] = m[piv];
            m[piv] = t;
            for (int r = col + 1; r < n; r++) {
                double f = m[r][col] / m[col][col];
                for (int c = col; c <= n; c++) {
                    m[r][c] -= f * m[col][c];
                }
            }
        }
        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = m[r][n];
            for (int c = r + 1; c < n; c++) {
                s -= m[r][c] * x[c];
            }
            x[r] = s / m[r][r];
        }
        return x;
    }

    @Test
    void solve_spdMatrix_equalsGaussianElimination() {
        int n = 6;
        double[] c = CovarianceStatsFileTest.spd(n, 21);
        double[] k = {1, -2, 0.5, 3, -1, 0.25};
        double[] expected = gauss(c, k, n);
        try (CovarianceStats s = stats(c, n); PointerScope scope = new PointerScope()) {
            double[] x = Tensors.toDoubles(s.solve(Tensors.floats(new float[] {1, -2, 0.5f, 3, -1, 0.25f}, cpu, n)));
            for (int i = 0; i < n; i++) {
                assertEquals(expected[i], x[i], 1e-9 * Math.abs(expected[i]) + 1e-12, "x[" + i + "]");
            }
        }
    }

    @Test
    void solve_singularMatrix_throwsIllegalStateNamingLayerAndDamping() {
        double[] c = new double[16];
        for (int i = 0; i < 4; i++) {
            c[i * 4 + i] = i == 2 ? 0.0 : 1.0;    // exactly singular
        }
        try (CovarianceStats s = stats(c, 4); PointerScope scope = new PointerScope()) {
            Tensor k = Tensors.floats(new float[] {1, 1, 1, 1}, cpu, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.solve(k));
            assertTrue(e.getMessage().contains("layer 0") && e.getMessage().contains("damping"), e.getMessage());
        }
    }

    @Test
    void solve_singularMatrixWithDamping_solvesDampedSystem() {
        double[] c = new double[16];
        for (int i = 0; i < 4; i++) {
            c[i * 4 + i] = i == 2 ? 0.0 : 1.0;
        }
        try (CovarianceStats s = stats(c, 4); CovarianceStats damped = s.withDamping(0.1);
             PointerScope scope = new PointerScope()) {
            double[] x = Tensors.toDoubles(damped.solve(Tensors.floats(new float[] {1, 1, 1, 1}, cpu, 4)));
            double lambda = 0.1 * 0.75;          // λ · mean(diag C)
            for (int i = 0; i < 4; i++) {
                double expected = 1.0 / ((i == 2 ? 0.0 : 1.0) + lambda);
                assertEquals(expected, x[i], 1e-12, "x[" + i + "]");
            }
            assertTrue(damped.id().endsWith("+damping=0.1"), damped.id());
            assertEquals(0.0, s.damping());
        }
    }

    @Test
    void solve_wrongKey_throwsIllegalArgument() {
        try (CovarianceStats s = stats(CovarianceStatsFileTest.spd(3, 22), 3); PointerScope scope = new PointerScope()) {
            assertThrows(IllegalArgumentException.class, () -> s.solve(Tensors.floats(new float[] {1, 2}, cpu, 2)));
            assertThrows(IllegalArgumentException.class,
                    () -> s.solve(Tensors.floats(new float[] {1, Float.NaN, 2}, cpu, 3)));
        }
    }
}
