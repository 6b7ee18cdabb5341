package dev.refact.clip.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One array read from an NPY file (or an NPZ entry), held on the Java heap in row-major (C)
 * order, little-endian, whatever order and endianness the file used.
 *
 * @param name  the array's name (file or NPZ entry name without {@code .npy})
 * @param dtype element type
 * @param shape dimensions, row-major; {@code []} for a 0-d scalar (as ROME stores {@code count})
 * @param data  {@code numel × dtype.byteSize()} bytes, little-endian, C order (read-only)
 */
public record NpyArray(String name, DType dtype, long[] shape, ByteBuffer data) {

    /**
     * Validates that {@code data} holds exactly the elements of {@code shape}. The shape is copied; the data is not
     * (arrays such as covariance matrices are large, and {@link Npy} hands over a buffer nobody else holds): it is
     * kept as a read-only view, which protects it from the users of this record but not from the caller.
     *
     * @param name  the array's name, non-null
     * @param dtype element type, non-null
     * @param shape dimensions, each {@code >= 0}; cloned
     * @param data  exactly {@code numel × dtype.byteSize()} remaining bytes, little-endian, C order; its remaining
     *              bytes are kept as a read-only view (not copied), so the caller must not change them afterwards
     * @throws IllegalArgumentException if a dimension is negative or the byte count does not match the shape
     */
    public NpyArray {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("array '" + name + "': negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        if (data.remaining() != Math.multiplyExact(n, (long) dtype.byteSize())) {
            throw new IllegalArgumentException("array '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + n * dtype.byteSize() + " bytes, got " + data.remaining());
        }
        data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The shape (a copy).
     *
     * @return a fresh copy of the dimensions; {@code []} for a 0-d scalar
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * A read-only little-endian view of the element bytes.
     *
     * @return a new read-only buffer over the elements, positioned at 0 (its position is the caller's to move)
     */
    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Number of elements (1 for a 0-d array).
     *
     * @return the product of the dimensions
     */
    public int numel() {
        return data.remaining() / dtype.byteSize();
    }

    /**
     * The values as float32: float dtypes as torch converts them (F64 rounded to nearest), integer
     * dtypes as {@code (float) value}, BOOL as 0/1.
     *
     * @return a new array of {@link #numel()} values in C order
     */
    public float[] toFloats() {
        float[] out = new float[numel()];
        ByteBuffer b = data();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> b.getFloat(i * 4);
                case F64 -> (float) b.getDouble(i * 8);
                case F16 -> HalfFloats.halfToFloat(b.getShort(i * 2));
                case BF16 -> HalfFloats.bfloat16ToFloat(b.getShort(i * 2));
                default -> (float) integerAt(b, i);
            };
        }
        return out;
    }

    /**
     * The values as float64 (exact for every dtype except I64 beyond 2^53).
     *
     * @return a new array of {@link #numel()} values in C order
     */
    public double[] toDoubles() {
        double[] out = new double[numel()];
        ByteBuffer b = data();
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> b.getFloat(i * 4);
                case F64 -> b.getDouble(i * 8);
                case F16 -> HalfFloats.halfToFloat(b.getShort(i * 2));
                case BF16 -> HalfFloats.bfloat16ToFloat(b.getShort(i * 2));
                default -> (double) integerAt(b, i);
            };
        }
        return out;
    }

    /**
     * The values of an integer or BOOL array as longs.
     *
     * @return a new array of {@link #numel()} values in C order (U8 as 0..255, BOOL as 0/1)
     * @throws IllegalArgumentException for a floating-point array (use {@link #toDoubles()})
     */
    public long[] toLongs() {
        if (dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("array '" + name + "' is " + dtype + ", not an integer type; use toDoubles");
        }
        long[] out = new long[numel()];
        ByteBuffer b = data();
        for (int i = 0; i < out.length; i++) {
            out[i] = integerAt(b, i);
        }
        return out;
    }

    private long integerAt(ByteBuffer b, int i) {
        return switch (dtype) {
            case I64 -> b.getLong(i * 8);
            case I32 -> b.getInt(i * 4);
            case I16 -> b.getShort(i * 2);
            case I8 -> b.get(i);
            case U8 -> b.get(i) & 0xFF;
            case BOOL -> b.get(i) != 0 ? 1 : 0;
            default -> throw new AssertionError(dtype);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && name.equals(a.name) && dtype == a.dtype && Arrays.equals(shape, a.shape)
                && data.equals(a.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data);
    }

    @Override
    public String toString() {
        return "NpyArray[" + name + " " + dtype + " " + Arrays.toString(shape) + "]";
    }
}
