package dev.refact.clip.io;

/**
 * Bit-exact conversions between float32 and the 16-bit float formats, matching libtorch
 * ({@code c10::Half}, {@code c10::BFloat16}). Package-private.
 */
final class HalfFloats {
    private HalfFloats() {
    }

    /** IEEE binary16 → binary32, exact; NaN payload and sign kept (as c10's fp16_ieee_to_fp32_value). */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact in float32
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 → binary32: the 16 bits become the upper half, exact. */
    static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }
}
