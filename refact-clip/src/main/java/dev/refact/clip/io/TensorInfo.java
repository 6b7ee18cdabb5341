package dev.refact.clip.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lives in a safetensors file.
 *
 * @param name  the tensor's key in the header
 * @param dtype element type
 * @param shape dimensions, row-major (C order); {@code []} for a scalar
 * @param begin first byte, relative to the start of the data section (after the header)
 * @param end   one past the last byte, relative to the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    /**
     * Validates and defensively copies the shape.
     *
     * @param name  the tensor's key in the header, non-null
     * @param dtype element type, non-null
     * @param shape dimensions, each {@code >= 0}; cloned
     * @param begin first byte relative to the data section, {@code >= 0}
     * @param end   one past the last byte relative to the data section, {@code >= begin}
     * @throws IllegalArgumentException if a dimension is negative or the byte range is invalid
     */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
        }
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("tensor '" + name + "': invalid byte range [" + begin + ", " + end + ")");
        }
    }

    /**
     * The shape (a copy).
     *
     * @return a fresh copy of the dimensions; {@code []} for a scalar
     */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Number of elements (1 for a scalar).
     *
     * @return the product of the dimensions
     * @throws ArithmeticException if the product overflows a {@code long}
     */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Bytes of data, {@code end - begin}.
     *
     * @return the length of the tensor's byte range
     */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "TensorInfo[" + name + " " + dtype + " " + Arrays.toString(shape) + " bytes " + begin + ".." + end + "]";
    }
}
