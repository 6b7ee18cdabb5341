package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * {@link ClipTextModel#applyLowRankUpdate}: the weight becomes {@code W + rᵀu} formed in float64; the undo journal
 * keeps the factors (k·(out+in) floats) while that is smaller than the weight, and undo, which replays the same
 * arithmetic, restores every state bit for bit. On the tiny fixture an fc2 weight is [32,128]: factors for k ≤ 25.
 */
final class LowRankUpdateTest {
    static final Path FIXTURE = SharedData.resolve("models/tiny-random-clip-text");
    static final String FC2 = ClipTextModel.fc2WeightName(1);

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * 0.05);
        }
        return v;
    }

    /** W + rᵀu in float64, rounded once: the reference the update must equal bit for bit. */
    private static float[] expected(float[] w, float[] r, float[] u, int k, int out, int in) {
        float[] e = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int j = 0; j < k; j++) {
                    s += (double) r[j * out + o] * u[j * in + i];
                }
                e[o * in + i] = (float) ((double) w[o * in + i] + s);
            }
        }
        return e;
    }

    @Test
    void applyLowRankUpdate_isTheFloat64Sum_andJournalsTheFactorsNotTheWeight() throws IOException {
        Random rnd = new Random(5);
        try (ClipTextModel m = ClipTextModel.load(FIXTURE); PointerScope scope = new PointerScope()) {
            float[] w0 = Tensors.toFloats(m.parameter(FC2));
            int k = 3;
            float[] r = random(rnd, k * 32);
            float[] u = random(rnd, k * 128);
            m.applyLowRankUpdate(FC2, Tensors.floats(r, m.device(), k, 32), Tensors.floats(u, m.device(), k, 128),
                    "joint-a");
            float[] got = Tensors.toFloats(m.parameter(FC2));
            float[] want = expected(w0, r, u, k, 32, 128);
            // float64 sums may round differently from this loop's order only in the last place of the double
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], Math.ulp(want[i]), "element " + i);
            }
            assertEquals((long) k * (32 + 128) * 4, m.journalBytes(), "factors, not a [32,128] copy");

            // k = 26 > 32·128/160: the factors would be larger than the weight, so the journal keeps the weight
            float[] r2 = random(rnd, 26 * 32);
            float[] u2 = random(rnd, 26 * 128);
            m.applyLowRankUpdate(FC2, Tensors.floats(r2, m.device(), 26, 32), Tensors.floats(u2, m.device(), 26, 128),
                    "joint-b");
            assertEquals((long) k * (32 + 128) * 4 + 32L * 128 * 4, m.journalBytes());
            m.undo("joint-b");
            m.undo("joint-a");
            assertArrayEquals(w0, Tensors.toFloats(m.parameter(FC2)));
            assertEquals(0, m.journalBytes());
        }
    }

    @Test
    void undo_ofALaterChange_replaysTheLowRankUpdate_bitForBit() throws IOException {
        Random rnd = new Random(6);
        try (ClipTextModel m = ClipTextModel.load(FIXTURE); PointerScope scope = new PointerScope()) {
            float[] w0 = Tensors.toFloats(m.parameter(FC2));
            m.applyRankOneUpdate(FC2, Tensors.floats(random(rnd, 32), m.device(), 32),
                    Tensors.floats(random(rnd, 128), m.device(), 128), "edit-1");
            float[] w1 = Tensors.toFloats(m.parameter(FC2));
            m.applyLowRankUpdate(FC2, Tensors.floats(random(rnd, 4 * 32), m.device(), 4, 32),
                    Tensors.floats(random(rnd, 4 * 128), m.device(), 4, 128), "joint-2");
            float[] w2 = Tensors.toFloats(m.parameter(FC2));
            String fp2 = m.fingerprint();
            m.applyLowRankUpdate(FC2, Tensors.floats(random(rnd, 2 * 32), m.device(), 2, 32),
                    Tensors.floats(random(rnd, 2 * 128), m.device(), 2, 128), "joint-3");
            m.applyRankOneUpdate(FC2, Tensors.floats(random(rnd, 32), m.device(), 32),
                    Tensors.floats(random(rnd, 128), m.device(), 128), "edit-4");
            m.undo("edit-4");
            m.undo("joint-3");   // restores the original, replays edit-1 and joint-2
            assertArrayEquals(w2, Tensors.toFloats(m.parameter(FC2)));
            assertEquals(fp2, m.fingerprint());
            m.undo("joint-2");
            assertArrayEquals(w1, Tensors.toFloats(m.parameter(FC2)));
            m.undo("edit-1");
            assertArrayEquals(w0, Tensors.toFloats(m.parameter(FC2)));
            assertEquals(List.of(), m.changes());
        }
    }

    @Test
    void applyLowRankUpdate_badFactors_refusedWithShapes_weightsUnchanged() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(FIXTURE); PointerScope scope = new PointerScope()) {
            float[] w0 = Tensors.toFloats(m.parameter(FC2));
            Tensor r = Tensors.floats(new float[2 * 32], m.device(), 2, 32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.applyLowRankUpdate(FC2, r,
                    Tensors.floats(new float[3 * 128], m.device(), 3, 128), "x"));
            assertTrue(e.getMessage().contains("[2, 32]") && e.getMessage().contains("[3, 128]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.applyLowRankUpdate(FC2,
                    Tensors.floats(new float[32], m.device(), 32), Tensors.floats(new float[128], m.device(), 128), "y"));
            float[] nan = new float[2 * 128];
            nan[7] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> m.applyLowRankUpdate(FC2, r,
                    Tensors.floats(nan, m.device(), 2, 128), "z"));
            float[] huge = new float[2 * 32];
            java.util.Arrays.fill(huge, 3e38f);
            float[] big = new float[2 * 128];
            java.util.Arrays.fill(big, 3e38f);
            assertThrows(IllegalArgumentException.class, () -> m.applyLowRankUpdate(FC2,
                    Tensors.floats(huge, m.device(), 2, 32), Tensors.floats(big, m.device(), 2, 128), "inf"));
            assertArrayEquals(w0, Tensors.toFloats(m.parameter(FC2)));
            assertTrue(m.changes().isEmpty());
            assertEquals(0, m.journalBytes());
            assertTrue(torch.isfinite(m.parameter(FC2)).all().item_bool());
        }
    }
}
