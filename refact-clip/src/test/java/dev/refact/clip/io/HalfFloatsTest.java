package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** F16/BF16 → F32 conversion against hand-computed values and against libtorch's own conversion. */
final class HalfFloatsTest {
    /** F16 bit patterns and their exact float32 values, worked out by hand. */
    private static final int[] HALF_BITS = {
        0x0000, 0x8000, 0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0400, 0x0001, 0x03FF, 0x8001, 0x7C00, 0xFC00,
    };
    private static final float[] HALF_VALUES = {
        0f, -0f, 1f, -2f, 0.333251953125f, 65504f, 0x1p-14f, 0x1p-24f, 1023 * 0x1p-24f, -0x1p-24f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
    };
    /** BF16 bit patterns and their float32 values (the bits shifted up by 16). */
    private static final int[] BF16_BITS = {0x0000, 0x8000, 0x3F80, 0xC2F7, 0x7F7F, 0x0001, 0x0080, 0x7F80, 0xFF80};
    private static final float[] BF16_VALUES = {
        0f, -0f, 1f, -123.5f, 0x1.FEp127f, 0x1p-133f, 0x1p-126f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
    };

    @TempDir
    Path dir;

    @Test
    void halfToFloat_handComputedValues_exact() {
        for (int i = 0; i < HALF_BITS.length; i++) {
            assertEquals(Float.floatToRawIntBits(HALF_VALUES[i]),
                    Float.floatToRawIntBits(HalfFloats.halfToFloat((short) HALF_BITS[i])),
                    String.format("half 0x%04X", HALF_BITS[i]));
        }
    }

    @Test
    void halfToFloat_nan_keepsSignAndPayload() {
        assertEquals(0x7FC00000, Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0x7E00)));
        assertEquals(0xFFC00000, Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0xFE00)));
        assertEquals(0x7FC02000, Float.floatToRawIntBits(HalfFloats.halfToFloat((short) 0x7E01)));
    }

    @Test
    void bfloat16ToFloat_handComputedValues_exact() {
        for (int i = 0; i < BF16_BITS.length; i++) {
            assertEquals(Float.floatToRawIntBits(BF16_VALUES[i]),
                    Float.floatToRawIntBits(HalfFloats.bfloat16ToFloat((short) BF16_BITS[i])),
                    String.format("bf16 0x%04X", BF16_BITS[i]));
        }
        assertTrue(Float.isNaN(HalfFloats.bfloat16ToFloat((short) 0x7FC0)));
    }

    @Test
    void readFloats_everyF16AndBf16Pattern_matchesLibtorchConversion() throws IOException {
        int[] all = new int[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Path p = dir.resolve("halves.safetensors");
        new SafetensorsWriter()
                .addBytes("h", DType.F16, TestFiles.shortsLE(all), 65536)
                .addBytes("b", DType.BF16, TestFiles.shortsLE(all), 65536)
                .write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p); Device cpu = Tensors.cpu()) {
            for (String name : new String[] {"h", "b"}) {
                float[] ours = f.readFloats(name);
                float[] torch;
                try (Tensor t = f.toTensor(name, ScalarType.Float, cpu)) {
                    torch = Tensors.toFloats(t);
                }
                int mismatches = 0;
                for (int i = 0; i < 65536; i++) {
                    boolean same = Float.isNaN(ours[i]) ? Float.isNaN(torch[i])
                            : Float.floatToRawIntBits(ours[i]) == Float.floatToRawIntBits(torch[i]);
                    if (!same) {
                        mismatches++;
                    }
                }
                assertEquals(0, mismatches, name + ": patterns where our conversion differs from libtorch");
            }
            float[] h = f.readFloats("h");
            for (int i = 0; i < HALF_BITS.length; i++) {
                assertEquals(Float.floatToRawIntBits(HALF_VALUES[i]), Float.floatToRawIntBits(h[HALF_BITS[i]]));
            }
        }
    }
}
