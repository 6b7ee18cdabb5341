package dev.refact.diffusion;

import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.opentest4j.AssertionFailedError;

/** The tiny-sd-pipe fixture: folders and golden tensors; comparisons print their max abs diff. */
final class Golden implements AutoCloseable {
    static final String DIR = "models/tiny-sd-pipe";

    private final SafetensorsFile file;

    Golden() {
        try {
            file = SafetensorsFile.open(SharedData.resolve(DIR + "/golden.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path dir() {
        return SharedData.resolve(DIR);
    }

    static Path component(String name) {
        return SharedData.resolve(DIR + "/" + name);
    }

    long[] shape(String name) {
        return file.info(name).shape();
    }

    float[] floats(String name) {
        try {
            return file.readFloats(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    double[] doubles(String name) {
        try {
            return file.info(name).dtype().isFloatingPoint() ? file.readDoubles(name)
                    : Arrays.stream(file.readLongs(name)).asDoubleStream().toArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    long[] longs(String name) {
        try {
            return file.readLongs(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A float32 CPU tensor of the golden (caller owns). */
    Tensor tensor(String name) {
        return Tensors.floats(floats(name), Tensors.cpu(), shape(name));
    }

    /** Rows [from, from+count) of the first dimension, as a tensor (caller owns). */
    Tensor slice(String name, int from, int count) {
        long[] s = shape(name);
        float[] all = floats(name);
        long per = all.length / s[0];
        float[] part = Arrays.copyOfRange(all, (int) (from * per), (int) ((from + count) * per));
        long[] ps = s.clone();
        ps[0] = count;
        return Tensors.floats(part, Tensors.cpu(), ps);
    }

    /** Asserts {@code |a − e| ≤ atol + rtol·|e|} and prints the max abs diff; returns it. */
    static double check(String what, float[] expected, float[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            throw new AssertionFailedError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        double max = TensorAssertions.maxAbsDiff(expected, actual);
        double maxAbs = 0;
        for (float v : expected) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        System.out.printf(Locale.ROOT, "golden %-40s max|diff| %.3g (max|e| %.3g)%n", what, max, maxAbs);
        TensorAssertions.assertAllClose(expected, actual, rtol, atol, what);
        return max;
    }

    double check(String name, Tensor actual, double rtol, double atol) {
        long[] s = Tensors.shape(actual);
        if (!Arrays.equals(s, shape(name))) {
            throw new AssertionFailedError(name + ": shape " + Arrays.toString(s) + ", expected "
                    + Arrays.toString(shape(name)));
        }
        return check(name, floats(name), Tensors.toFloats(actual), rtol, atol);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
