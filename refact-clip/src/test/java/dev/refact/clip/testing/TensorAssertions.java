package dev.refact.clip.testing;

import dev.refact.clip.torch.Tensors;
import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.opentest4j.AssertionFailedError;

/**
 * Numeric assertions with stated tolerances: element-wise {@code |a − e| ≤ atol + rtol·|e|}.
 *
 * <p>Failure messages name the worst element, its index and both values.
 */
public final class TensorAssertions {
    private TensorAssertions() {
    }

    public static void assertAllClose(float[] expected, float[] actual, double rtol, double atol, String what) {
        if (expected.length != actual.length) {
            throw new AssertionFailedError(what + ": length " + actual.length + " != expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            double excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
            if (Double.isNaN(a) != Double.isNaN(e) || excess > worstExcess) {
                worstExcess = Double.isNaN(a) ? Double.POSITIVE_INFINITY : excess;
                worst = i;
            }
        }
        if (worst >= 0) {
            throw new AssertionFailedError(String.format(
                    "%s: element %d is %s, expected %s (|diff| %.3g > atol %.1g + rtol %.1g·|e|); max abs diff %.3g",
                    what, worst, actual[worst], expected[worst], Math.abs(actual[worst] - expected[worst]), atol, rtol,
                    maxAbsDiff(expected, actual)));
        }
    }

    public static void assertAllClose(float[] expected, Tensor actual, double rtol, double atol, String what) {
        assertAllClose(expected, Tensors.toFloats(actual), rtol, atol, what);
    }

    public static void assertAllClose(Tensor expected, Tensor actual, double rtol, double atol, String what) {
        long[] es = Tensors.shape(expected);
        long[] as = Tensors.shape(actual);
        if (!Arrays.equals(es, as)) {
            throw new AssertionFailedError(what + ": shape " + Arrays.toString(as) + " != expected " + Arrays.toString(es));
        }
        assertAllClose(Tensors.toFloats(expected), Tensors.toFloats(actual), rtol, atol, what);
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
