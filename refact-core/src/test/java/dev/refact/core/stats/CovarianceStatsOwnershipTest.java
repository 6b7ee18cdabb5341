package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Damping views own nothing; C and every factorisation have exactly one owner, the statistics they came from. */
final class CovarianceStatsOwnershipTest {
    private static final double[] C = {4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2};

    @BeforeAll
    static void runtime() {
        TorchRuntime.ensureLoaded();
    }

    private static double[] solve(CovarianceStats s, double... k) {
        try (Tensor kk = Tensors.doubles(k, Tensors.cpu(), k.length); Tensor x = s.solve(kk)) {
            return Tensors.toDoubles(x);
        }
    }

    @Test
    void withDamping_sharesTheMatrix_andTheRootOwnsTheFactor() {
        CovarianceStats stats = CovarianceStatsSolveTest.stats(C, 3);
        CovarianceStats damped = stats.withDamping(0.5);
        assertSame(stats.matrix(), damped.matrix(), "a damping view must not copy C");
        solve(damped, 1, 2, 3);
        List<Tensor> factors = stats.cachedFactors();
        assertEquals(1, factors.size());
        Tensor factor = factors.get(0);
        assertEquals(1, factor.referenceCount(), "the factor has exactly one owner");
        Tensor matrix = stats.matrix();
        damped.close(); // frees nothing
        assertFalse(factor.isNull());
        assertFalse(matrix.isNull());
        stats.close();
        assertTrue(factor.isNull(), "closing the statistics frees the damped factor");
        assertTrue(matrix.isNull());
        assertThrows(IllegalStateException.class, stats::matrix, "use after close says closed");
        assertThrows(IllegalStateException.class, () -> solve(damped, 1, 2, 3));
    }

    @Test
    void editorsBuiltAgain_reuseOneFactor_andStayBounded() {
        try (CovarianceStats stats = CovarianceStatsSolveTest.stats(C, 3)) {
            double[] first = solve(stats.withDamping(0.5), 1, 2, 3);
            for (int i = 0; i < 20; i++) {
                assertEquals(first[0], solve(stats.withDamping(0.5), 1, 2, 3)[0], 0.0);
            }
            assertEquals(1, stats.cachedFactors().size());
            solve(stats, 1, 2, 3);
            solve(stats.withDamping(0.1), 1, 2, 3);
            solve(stats.withDamping(0.2), 1, 2, 3);
            assertEquals(2, stats.cachedFactors().size(), "at most two factorisations are kept");
        }
    }

    @Test
    void solve_sameKeyTwice_bitIdentical_otherKeyDiffers() {
        try (CovarianceStats stats = CovarianceStatsSolveTest.stats(C, 3)) {
            CovarianceStats damped = stats.withDamping(0.5);
            double[] a = solve(damped, 1, 2, 3);
            double[] b = solve(damped, 1, 2, 3);
            org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, 0.0);
            double[] undamped = solve(stats, 1, 2, 3);
            assertFalse(java.util.Arrays.equals(a, undamped), "the remembered solve is per damping");
            double[] other = solve(damped, 3, 2, 1);
            assertFalse(java.util.Arrays.equals(a, other));
        }
    }

    @Test
    void dampedSolve_matchesTheExplicitlyDampedSystem() {
        try (CovarianceStats stats = CovarianceStatsSolveTest.stats(C, 3)) {
            double lambda = 0.5;
            double mean = (4 + 3 + 2) / 3.0;
            double[] a = C.clone();
            for (int i = 0; i < 3; i++) {
                a[i * 3 + i] += lambda * mean;
            }
            double[] want = CovarianceStatsSolveTest.gauss(a, new double[] {1, 2, 3}, 3);
            double[] got = solve(stats.withDamping(lambda), 1, 2, 3);
            for (int i = 0; i < 3; i++) {
                assertEquals(want[i], got[i], 1e-12);
            }
        }
    }
}
