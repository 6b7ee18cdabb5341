package dev.refact.clip;

import static dev.refact.clip.testing.TensorAssertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The text encoder against {@code tiny-random-clip-text/golden.safetensors} (openai CLIP reference, cross-checked
 * with HF transformers). Tolerance: |a−e| ≤ 1e-5 + 1e-5·|e| (float32; the fixture's implementations agree to ~2e-6).
 */
final class ClipTextModelGoldenTest {
    static final double RTOL = 1e-5;
    static final double ATOL = 1e-5;
    static ClipTextModel model;
    static SafetensorsFile golden;
    static Tensor ids;

    @BeforeAll
    static void load() throws IOException {
        Path dir = SharedData.resolve("models/tiny-random-clip-text");
        model = ClipTextModel.load(dir);
        golden = SafetensorsFile.open(dir.resolve("golden.safetensors"));
        ids = Tensors.longs(golden.readLongs("input_ids"), model.device(), 5, 77);
    }

    @AfterAll
    static void close() throws IOException {
        ids.close();
        golden.close();
        model.close();
    }

    @Test
    void encode_tinyFixture_matchesEveryOutput() throws IOException {
        try (PointerScope scope = new PointerScope(); TextEncoding enc = model.encode(ids, true)) {
            assertAllClose(golden.readFloats("last_hidden_state"), enc.lastHiddenState(), RTOL, ATOL, "last_hidden_state");
            assertAllClose(golden.readFloats("pooled_output"), enc.pooled(), RTOL, ATOL, "pooled_output");
            assertAllClose(golden.readFloats("text_embeds"), enc.textEmbeds(), RTOL, ATOL, "text_embeds");
            assertEquals(4, enc.hiddenStates().size());
            for (int i = 0; i <= 3; i++) {
                assertAllClose(golden.readFloats("hidden_states." + i), enc.hiddenStates().get(i), RTOL, ATOL,
                        "hidden_states." + i);
            }
            for (int i = 0; i < 3; i++) {
                assertAllClose(golden.readFloats("layers." + i + ".mlp_key"), enc.mlpKeys().get(i), RTOL, ATOL,
                        "layers." + i + ".mlp_key");
            }
            assertArrayEquals(new long[] {5, 77, 32}, Tensors.shape(enc.lastHiddenState()));
        }
    }

    @Test
    void traceMlp_eachLayer_matchesAttentionKeyAndOutput() throws IOException {
        for (int layer = 0; layer < 3; layer++) {
            try (PointerScope scope = new PointerScope(); MlpTrace t = model.traceMlp(ids, layer)) {
                Tensor attn = t.residual().sub(Tensors.floats(golden.readFloats("hidden_states." + layer),
                        model.device(), 5, 77, 32));
                assertAllClose(golden.readFloats("layers." + layer + ".attn_out"), attn, RTOL, 2e-5, "attn_out " + layer);
                assertAllClose(golden.readFloats("layers." + layer + ".mlp_key"), t.key(), RTOL, ATOL, "mlp_key " + layer);
                assertAllClose(golden.readFloats("layers." + layer + ".mlp_out"), t.output(), RTOL, ATOL, "mlp_out " + layer);
            }
        }
    }

    @Test
    void forwardFrom_layerOutput_reproducesLastHiddenState() throws IOException {
        for (int layer = 0; layer < 3; layer++) {
            try (PointerScope scope = new PointerScope(); MlpTrace t = model.traceMlp(ids, layer)) {
                Tensor last = model.forwardFrom(layer, t.residual().add(t.output()));
                assertAllClose(golden.readFloats("last_hidden_state"), last, RTOL, ATOL, "forwardFrom " + layer);
                Tensor pooled = model.pool(last, ids);
                assertAllClose(golden.readFloats("pooled_output"), pooled, RTOL, ATOL, "pooled via forwardFrom");
            }
        }
    }

    @Test
    void encode_truncatedToEndToken_givesSamePooledOutput() throws IOException {
        // Causal attention: positions after the first end token cannot change it, so 12 positions suffice.
        try (PointerScope scope = new PointerScope()) {
            Tensor short12 = ids.narrow(1, 0, 12);
            try (TextEncoding full = model.encode(ids); TextEncoding cut = model.encode(short12)) {
                // Not bitwise: different matrix sizes take different kernel blockings (observed 1.1e-6).
                assertAllClose(Tensors.toFloats(full.pooled()), cut.pooled(), 1e-5, 1e-5, "pooled (12 vs 77 positions)");
            }
        }
    }

    @Test
    void replaceParameter_goldenEdit_matchesEditedOutputs() throws IOException {
        String name = ClipTextModel.fc2WeightName(1);
        try (PointerScope scope = new PointerScope()) {
            Tensor before = model.copyOfParameter(name);
            Tensor after = Tensors.floats(golden.readFloats("edit.fc2_weight_after"), model.device(), 32, 128);
            String fpBefore = model.fingerprint();
            model.replaceParameter(name, after, "golden-edit");
            try (TextEncoding enc = model.encode(ids)) {
                assertAllClose(golden.readFloats("edit.last_hidden_state_after"), enc.lastHiddenState(), RTOL, ATOL,
                        "last_hidden_state after edit");
                assertAllClose(golden.readFloats("edit.pooled_output_after"), enc.pooled(), RTOL, ATOL,
                        "pooled after edit");
            } finally {
                assertTrue(!model.fingerprint().equals(fpBefore));
                model.undo("golden-edit");
            }
            assertEquals(fpBefore, model.fingerprint());
            assertArrayEquals(Tensors.toFloats(before), Tensors.toFloats(model.parameter(name)));
        }
    }

    @Test
    void forwardSuffix_cachedPrefix_equalsFullForwardRows() throws IOException {
        for (int layer = 0; layer < 2; layer++) {
            for (int start : new int[] {1, 4, 9}) {
                try (PointerScope scope = new PointerScope(); MlpTrace t = model.traceMlp(ids.narrow(1, 0, 12), layer)) {
                    Tensor out = t.residual().add(t.output());
                    Tensor full = model.forwardFrom(layer, out);
                    try (SuffixCache cache = model.suffixCache(layer, out, start)) {
                        Tensor suffix = model.forwardSuffix(cache, out.narrow(1, start, 12 - start));
                        assertAllClose(Tensors.toFloats(full.narrow(1, start, 12 - start)), suffix, 1e-5, 1e-5,
                                "suffix rows from " + start + " after layer " + layer);
                    }
                }
            }
        }
    }
}
