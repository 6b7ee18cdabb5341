package dev.refact.clip.io;

import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Element types of stored tensors, named as in the safetensors header.
 *
 * <p>Only the types refact-java reads and writes are listed; any other name in a file (for
 * example {@code F8_E4M3} or {@code U16}) is refused with a clear message.
 */
public enum DType {
    /** IEEE binary64. */
    F64("F64", 8, true, ScalarType.Double),
    /** IEEE binary32. */
    F32("F32", 4, true, ScalarType.Float),
    /** IEEE binary16 (half). */
    F16("F16", 2, true, ScalarType.Half),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16("BF16", 2, true, ScalarType.BFloat16),
    /** Signed 64-bit integer. */
    I64("I64", 8, false, ScalarType.Long),
    /** Signed 32-bit integer. */
    I32("I32", 4, false, ScalarType.Int),
    /** Signed 16-bit integer. */
    I16("I16", 2, false, ScalarType.Short),
    /** Signed 8-bit integer. */
    I8("I8", 1, false, ScalarType.Char),
    /** Unsigned 8-bit integer. */
    U8("U8", 1, false, ScalarType.Byte),
    /** Boolean stored as one byte, 0 or 1. */
    BOOL("BOOL", 1, false, ScalarType.Bool);

    private final String safetensorsName;
    private final int byteSize;
    private final boolean floatingPoint;
    private final ScalarType scalarType;

    DType(String safetensorsName, int byteSize, boolean floatingPoint, ScalarType scalarType) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
        this.scalarType = scalarType;
    }

    /**
     * Bytes per element.
     *
     * @return the element size in bytes: 1, 2, 4 or 8
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * The name used in a safetensors header, e.g. {@code "BF16"}.
     *
     * @return the header's {@code dtype} string, upper case
     */
    public String safetensorsName() {
        return safetensorsName;
    }

    /**
     * The matching libtorch scalar type.
     *
     * @return the libtorch type with the same element layout (e.g. {@code ScalarType.BFloat16} for {@link #BF16})
     */
    public ScalarType scalarType() {
        return scalarType;
    }

    /**
     * True for F64, F32, F16 and BF16.
     *
     * @return whether elements are floating-point numbers
     */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * The dtype for a safetensors header name (case-sensitive, as the format defines).
     *
     * @param name the header's {@code dtype} string, e.g. {@code "F16"}
     * @return the matching dtype
     * @throws IllegalArgumentException naming the unknown or unsupported dtype
     */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown or unsupported safetensors dtype '" + name
                + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    }

    /**
     * The dtype for a libtorch scalar type.
     *
     * @param type a libtorch scalar type, interned or not (as returned by {@code Tensor.scalar_type()})
     * @return the matching dtype
     * @throws IllegalArgumentException for a scalar type that has no safetensors counterpart here
     */
    public static DType fromScalarType(ScalarType type) {
        ScalarType interned = type.intern(); // libtorch returns non-interned enum instances
        for (DType d : values()) {
            if (d.scalarType == interned) {
                return d;
            }
        }
        throw new IllegalArgumentException("tensor dtype " + type + " cannot be stored "
                + "(supported: Double, Float, Half, BFloat16, Long, Int, Short, Char, Byte, Bool)");
    }

    /**
     * Rank used by the Rust {@code safetensors} crate to order tensors when writing (its
     * {@code Dtype} enum order, which increases with alignment). Tensors are written by
     * descending rank, then by name.
     */
    int writeOrder() {
        switch (this) {
            case BOOL: return 0;
            case U8: return 1;
            case I8: return 2;
            case I16: return 5;
            case F16: return 7;
            case BF16: return 8;
            case I32: return 9;
            case F32: return 11;
            case F64: return 12;
            case I64: return 13;
            default: throw new AssertionError(this);
        }
    }
}
