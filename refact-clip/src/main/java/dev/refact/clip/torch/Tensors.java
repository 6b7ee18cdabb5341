package dev.refact.clip.torch;

import java.util.Arrays;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The one place where refact-java moves data between Java arrays and libtorch tensors.
 *
 * <p>Every factory returns a tensor that owns its storage (a {@code clone()} of a
 * {@code from_blob} view, never the view itself), created on the given device. Reading back
 * always goes through an explicit copy to CPU. None of these methods leaks a native temporary:
 * each works in its own {@link PointerScope}.
 *
 * <p><b>Ownership rule of refact-java</b> (one rule for every method that returns native memory, see
 * {@code docs/architecture.md}): what a method returns — a tensor ({@link #handOff}) or an object holding tensors
 * such as {@code TextEncoding} ({@link #handOffOwner}) — belongs to the caller's innermost open
 * {@code PointerScope} (a {@code TensorScope} for users), which frees it when it closes; with no scope open,
 * the caller owns it and must {@code close()} it. Closing it early inside a scope is safe. Long-lived objects
 * made by factories ({@code ClipTextModel.load}, {@code CovarianceStats.load}) always belong to the caller.
 * Objects that keep tensors own them privately ({@link OwnedTensors}), outside every scope.
 *
 * <p>Not a user-facing API: it is public because refact-core and refact-diffusion use it.
 */
public final class Tensors {
    private Tensors() {
    }

    /**
     * Hands a tensor that was {@code retainReference()}d inside a now-closed scope to the caller: it is attached
     * to the caller's innermost open {@link PointerScope} (which then frees it), or, with none open, left for the
     * caller to close. Call it after the producing scope has closed.
     *
     * @param <T>      the pointer type, e.g. {@code Tensor}
     * @param retained a pointer holding one extra reference from {@code retainReference()}, no longer in any scope
     * @return {@code retained}, now owned by the caller's innermost scope, or by the caller if none is open
     */
    public static <T extends org.bytedeco.javacpp.Pointer> T handOff(T retained) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(retained);
            retained.releaseReference();
        }
        return retained;
    }

    /**
     * Hands an object that owns tensors privately (a result holder; its tensors belong to no open scope) to the
     * caller as one unit, under the same rule as {@link #handOff}: with a {@code PointerScope} open, that scope
     * closes the object when it closes (closing it earlier is safe: {@code close()} must be idempotent); with
     * none open, the caller closes it. Call it after the producing scope has closed.
     * @param <H> the owner type
     * @param owner the holder, whose {@code close()} is idempotent
     * @return {@code owner}
     */
    public static <H extends AutoCloseable> H handOffOwner(H owner) {
        if (PointerScope.getInnerScope() != null) {
            new ScopeCloser(owner); // attaches itself to the innermost scope
        }
        return owner;
    }

    /**
     * A native-less pointer whose deallocation closes an owner: attached to the innermost scope when
     * constructed, so that the scope's close closes the owner.
     */
    private static final class ScopeCloser extends org.bytedeco.javacpp.Pointer {
        ScopeCloser(AutoCloseable owner) {
            super((org.bytedeco.javacpp.Pointer) null);
            deallocator(() -> {
                try {
                    owner.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + owner + " failed: " + e.getMessage(), e);
                }
            });
        }
    }

    /**
     * The CPU device. Callers own the returned object.
     *
     * @return a new CPU {@code Device}, owned by the caller (or the caller's open scope)
     */
    public static Device cpu() {
        TorchRuntime.ensureLoaded();
        return new Device(torch.DeviceType.CPU);
    }

    /** Largest CUDA device index libtorch can name ({@code c10::DeviceIndex} is 8-bit). */
    private static final int MAX_CUDA_INDEX = Byte.MAX_VALUE;

    /**
     * Parses a device string: {@code cpu}, {@code cuda}, {@code cuda:1}.
     *
     * @param spec {@code cpu}, {@code cuda} or {@code cuda:N}; case and surrounding whitespace are ignored
     * @return a new {@code Device}, owned by the caller (or the caller's open scope)
     * @throws IllegalArgumentException for an unknown device, for CUDA when libtorch has no CUDA, or for
     *                                  {@code cuda:N} when there is no CUDA device N (N ≥ the number of devices)
     */
    public static Device device(String spec) {
        TorchRuntime.ensureLoaded();
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) {
            return cpu();
        }
        if (s.equals("cuda") || s.matches("cuda:\\d+")) {
            int index = -1;
            if (!s.equals("cuda")) {
                String digits = s.substring("cuda:".length()).replaceFirst("^0+(?=\\d)", "");
                if (digits.length() > 3 || Integer.parseInt(digits) > MAX_CUDA_INDEX) {
                    throw new IllegalArgumentException("device '" + spec + "': CUDA device index out of range (at most "
                            + MAX_CUDA_INDEX + ")");
                }
                index = Integer.parseInt(digits);
            }
            if (!torch.cuda_is_available()) {
                throw new IllegalArgumentException("device '" + spec + "' requested but no CUDA device is available "
                        + "(CPU-only libtorch or no GPU); build with -Pgpu and see docs/gpu.md");
            }
            if (index < 0) {
                return new Device(torch.DeviceType.CUDA);
            }
            int count = torch.cuda_device_count();
            if (index >= count) {
                throw new IllegalArgumentException("device '" + spec + "' requested but " + count + " CUDA device(s) "
                        + "are visible (cuda:0" + (count > 1 ? " to cuda:" + (count - 1) : "") + ")");
            }
            return new Device(torch.DeviceType.CUDA, (byte) index);
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': use cpu, cuda or cuda:N");
    }

    /**
     * Tensor options for a dtype on a device (caller owns).
     *
     * @param dtype  the element type of tensors made with these options
     * @param device the device of tensors made with these options
     * @return new options, owned by the caller (or the caller's open scope)
     */
    public static TensorOptions options(ScalarType dtype, Device device) {
        TorchRuntime.ensureLoaded();
        return new TensorOptions().dtype(new ScalarTypeOptional(dtype)).device(new DeviceOptional(device));
    }

    /**
     * A float32 tensor of the given shape holding a copy of {@code data}.
     *
     * @param data   the values, row-major
     * @param device where the tensor is created
     * @param shape  the dimensions, whose product must be {@code data.length} (none for a 0-d scalar)
     * @return a new float32 tensor of {@code shape} on {@code device}, owned as {@link #handOff} says
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold {@code data.length}
     *                                  values
     */
    public static Tensor floats(float[] data, Device device, long... shape) {
        checkCount(data.length, shape);
        TorchRuntime.ensureLoaded();
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            t = torch.from_blob(new FloatPointer(data), shape, options(torch.ScalarType.Float, cpu()))
                    .to(device, torch.ScalarType.Float, false, true, new org.bytedeco.pytorch.MemoryFormatOptional())
                    .retainReference();
        }
        return handOff(t);
    }

    /**
     * A float64 tensor of the given shape holding a copy of {@code data}.
     *
     * @param data   the values, row-major
     * @param device where the tensor is created
     * @param shape  the dimensions, whose product must be {@code data.length} (none for a 0-d scalar)
     * @return a new float64 tensor of {@code shape} on {@code device}, owned as {@link #handOff} says
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold {@code data.length}
     *                                  values
     */
    public static Tensor doubles(double[] data, Device device, long... shape) {
        checkCount(data.length, shape);
        TorchRuntime.ensureLoaded();
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            t = torch.from_blob(new DoublePointer(data), shape, options(torch.ScalarType.Double, cpu()))
                    .to(device, torch.ScalarType.Double, false, true, new org.bytedeco.pytorch.MemoryFormatOptional())
                    .retainReference();
        }
        return handOff(t);
    }

    /**
     * An int64 tensor of the given shape holding a copy of {@code data}.
     *
     * @param data   the values, row-major
     * @param device where the tensor is created
     * @param shape  the dimensions, whose product must be {@code data.length} (none for a 0-d scalar)
     * @return a new int64 tensor of {@code shape} on {@code device}, owned as {@link #handOff} says
     * @throws IllegalArgumentException if a dimension is negative or the shape does not hold {@code data.length}
     *                                  values
     */
    public static Tensor longs(long[] data, Device device, long... shape) {
        checkCount(data.length, shape);
        TorchRuntime.ensureLoaded();
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            t = torch.from_blob(new LongPointer(data), shape, options(torch.ScalarType.Long, cpu()))
                    .to(device, torch.ScalarType.Long, false, true, new org.bytedeco.pytorch.MemoryFormatOptional())
                    .retainReference();
        }
        return handOff(t);
    }

    /**
     * Copies any real tensor (any device, any float/int dtype, any layout) into a float array.
     *
     * @param t the tensor (not modified, not closed)
     * @return a new array of its {@code numel} values converted to float32, row-major (C order)
     * @throws ArithmeticException if the tensor has more than {@code Integer.MAX_VALUE} elements
     */
    public static float[] toFloats(Tensor t) {
        try (PointerScope scope = new PointerScope()) {
            Tensor c = t.detach().to(cpu(), torch.ScalarType.Float).contiguous();
            float[] out = new float[Math.toIntExact(c.numel())];
            c.data_ptr_float().get(out);
            return out;
        }
    }

    /**
     * Copies any real tensor into a double array (float64 on CPU first).
     *
     * @param t the tensor (not modified, not closed)
     * @return a new array of its {@code numel} values converted to float64, row-major (C order)
     * @throws ArithmeticException if the tensor has more than {@code Integer.MAX_VALUE} elements
     */
    public static double[] toDoubles(Tensor t) {
        try (PointerScope scope = new PointerScope()) {
            Tensor c = t.detach().to(cpu(), torch.ScalarType.Double).contiguous();
            double[] out = new double[Math.toIntExact(c.numel())];
            c.data_ptr_double().get(out);
            return out;
        }
    }

    /**
     * Copies an integer tensor into a long array.
     *
     * @param t the tensor (not modified, not closed); a floating-point one is truncated toward zero by libtorch
     * @return a new array of its {@code numel} values as int64, row-major (C order)
     * @throws ArithmeticException if the tensor has more than {@code Integer.MAX_VALUE} elements
     */
    public static long[] toLongs(Tensor t) {
        try (PointerScope scope = new PointerScope()) {
            Tensor c = t.detach().to(cpu(), torch.ScalarType.Long).contiguous();
            long[] out = new long[Math.toIntExact(c.numel())];
            c.data_ptr_long().get(out);
            return out;
        }
    }

    /**
     * The shape of a tensor as a Java array.
     *
     * @param t the tensor (not closed)
     * @return a new array of its sizes, outermost first; {@code []} for a 0-d tensor
     */
    public static long[] shape(Tensor t) {
        try (PointerScope scope = new PointerScope()) {
            return t.sizes().vec().get();
        }
    }

    /**
     * The shape as text, e.g. {@code [2, 77, 768]}, for error messages.
     *
     * @param t the tensor (not closed)
     * @return its sizes formatted by {@link Arrays#toString(long[])}
     */
    public static String shapeString(Tensor t) {
        return Arrays.toString(shape(t));
    }

    private static void checkCount(int n, long[] shape) {
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != n) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " elements but " + n + " values were given");
        }
    }
}
