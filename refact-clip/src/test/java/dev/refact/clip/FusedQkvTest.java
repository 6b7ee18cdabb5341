package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The q/k/v projections run as one fused GEMM, while their HF names stay live views that edits go through. */
final class FusedQkvTest {
    private static final String Q = "text_model.encoder.layers.0.self_attn.q_proj.weight";
    private static final String V_BIAS = "text_model.encoder.layers.0.self_attn.v_proj.bias";

    private static float[] pooled(ClipTextModel m) {
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = Tensors.longs(new long[] {49406, 320, 2368, 539, 49407}, m.device(), 1, 5);
            try (TextEncoding e = m.encode(ids)) {
                return Tensors.toFloats(e.pooled());
            }
        }
    }

    @Test
    void replaceParameter_qWeightView_changesTheFusedForward_andUndoRestoresBitForBit() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(SharedData.resolve("models/tiny-random-clip-text"))) {
            float[] before = pooled(m);
            float[] q = Tensors.toFloats(m.parameter(Q));
            assertEquals(32 * 32, q.length, "the named view has the checkpoint's shape");
            float[] scaled = q.clone();
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] *= 3f;
            }
            try (PointerScope scope = new PointerScope()) {
                m.replaceParameter(Q, Tensors.floats(scaled, m.device(), 32, 32), "q-x3");
            }
            assertArrayEquals(scaled, Tensors.toFloats(m.parameter(Q)), 0f);
            float[] edited = pooled(m);
            assertFalse(Arrays.equals(before, edited), "an edit of q_proj through its name reaches the fused GEMM");
            m.undo("q-x3");
            assertArrayEquals(before, pooled(m), 0f);
        }
    }

    @Test
    void replaceParameter_vBiasView_changesTheForward() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(SharedData.resolve("models/tiny-random-clip-text"))) {
            float[] before = pooled(m);
            try (PointerScope scope = new PointerScope()) {
                m.replaceParameter(V_BIAS, Tensors.floats(new float[32], m.device(), 32), "v-bias-0");
            }
            assertFalse(Arrays.equals(before, pooled(m)));
        }
    }
}
