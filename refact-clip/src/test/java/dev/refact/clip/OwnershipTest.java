package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The ownership rule (one owner per tensor, holders handed off as one unit) and use-after-close behaviour. */
final class OwnershipTest {
    private static final ClipTextConfig SMALL = new ClipTextConfig(16, 64, 2, 2, 77, 1000, "quick_gelu", 1e-5, 8, 1,
            2);

    private static Tensor ids(ClipTextModel m) {
        return Tensors.longs(new long[] {0, 5, 9, 2}, m.device(), 1, 4);
    }

    @Test
    void traceMlp_insideScope_isFreedWithTheScope() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 1, false)) {
            MlpTrace trace;
            Tensor key;
            try (TensorScope scope = TensorScope.open()) {
                trace = m.traceMlp(ids(m), 1);
                key = trace.key();
                assertEquals(1, key.referenceCount(), "the trace is the key's only owner");
            }
            assertTrue(trace.isClosed());
            assertTrue(key.isNull(), "the scope freed the trace's tensors");
            IllegalStateException e = assertThrows(IllegalStateException.class, trace::key);
            assertEquals("MlpTrace is closed", e.getMessage());
        }
    }

    @Test
    void traceMlp_withoutScope_belongsToTheCaller_andCloseIsIdempotent() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 1, false); Tensor ids = ids(m)) {
            MlpTrace trace = m.traceMlp(ids, 0);
            Tensor residual = trace.residual();
            assertEquals(1, residual.referenceCount());
            trace.close();
            assertTrue(residual.isNull());
            trace.close();
            assertThrows(IllegalStateException.class, trace::output);
        }
    }

    @Test
    void encode_closedEarlyInsideScope_isFreedOnce() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 1, true)) {
            try (TensorScope scope = TensorScope.open()) {
                TextEncoding enc = m.encode(ids(m), true);
                List<Tensor> all = new ArrayList<>(enc.hiddenStates());
                all.addAll(enc.mlpKeys());
                all.add(enc.lastHiddenState());
                all.add(enc.pooled());
                all.add(enc.textEmbeds());
                for (Tensor t : all) {
                    assertEquals(1, t.referenceCount(), "one owner: the encoding");
                }
                enc.close();
                for (Tensor t : all) {
                    assertTrue(t.isNull());
                }
                assertThrows(IllegalStateException.class, enc::pooled);
            } // the scope closes the encoding again: harmless
        }
    }

    @Test
    void suffixCache_followsTheHandOffRule() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 1, false)) {
            SuffixCache cache;
            List<Tensor> kv;
            try (TensorScope scope = TensorScope.open(); MlpTrace t = m.traceMlp(ids(m), 0)) {
                cache = m.suffixCache(0, t.residual().add(t.output()), 2);
                kv = cache.tensors();
                assertEquals(2, kv.size());
            }
            assertTrue(cache.isClosed());
            kv.forEach(t -> assertTrue(t.isNull()));
            assertThrows(IllegalStateException.class, cache::tensors);
        }
    }

    @Test
    @SuppressWarnings("deprecation")
    void close_model_nullsEveryWeight_andLaterCallsSayClosed() throws IOException {
        ClipTextModel m = ClipTextModel.random(SMALL, 2, true);
        List<Tensor> weights = new ArrayList<>();
        for (String n : m.parameterNames()) {
            weights.add(m.parameter(n));
        }
        String fc2 = ClipTextModel.fc2WeightName(0);
        try (Tensor r = Tensors.floats(new float[16], m.device(), 16); Tensor u = Tensors.floats(new float[64],
                m.device(), 64)) {
            m.applyRankOneUpdate(fc2, r, u, "zero");
        }
        m.close();
        assertTrue(m.isClosed());
        weights.forEach(w -> assertTrue(w.isNull(), "weight freed"));
        List<Executable> calls = List.of(m::fingerprint, () -> m.parameterValues(fc2), () -> m.encode(
                Tensors.longs(new long[] {1}, Tensors.cpu(), 1, 1)), () -> m.undo("zero"), m::changes,
                () -> m.save(Path.of("unused")), m::claimForEdit, m::device);
        for (Executable call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().endsWith("is closed"), e.getMessage());
        }
        m.close(); // idempotent
        assertTrue(m.toString().contains("closed"));
    }

    @Test
    void fingerprint_isContent_savedAndReloadedEditedModelKeepsIt(@TempDir Path dir) throws IOException {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 3, false)) {
            String base = m.fingerprint();
            String fc2 = ClipTextModel.fc2WeightName(1);
            float[] r = new float[16];
            float[] u = new float[64];
            r[3] = 0.5f;
            u[7] = -0.25f;
            try (Tensor rt = Tensors.floats(r, m.device(), 16); Tensor ut = Tensors.floats(u, m.device(), 64)) {
                m.applyRankOneUpdate(fc2, rt, ut, "e1");
            }
            String edited = m.fingerprint();
            assertNotEquals(base, edited);
            assertEquals(base, m.baseFingerprint());
            m.save(dir.resolve("edited"));
            try (ClipTextModel again = ClipTextModel.load(dir.resolve("edited"))) {
                assertEquals(edited, again.fingerprint(), "same weights, same identity");
                assertEquals(edited, again.baseFingerprint());
                assertEquals(List.of("e1"), again.appliedChanges(), "the saved weights remember the change");
                assertEquals(List.of(), again.changes(), "but cannot undo it");
            }
            m.undo("e1");
            assertEquals(base, m.fingerprint(), "undo restores the identity");
        }
    }

    @Test
    void applyRankOneUpdate_failsFast_whenModelIsBeingEditedByAnotherThread() throws Exception {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 4, false)) {
            CountDownLatch claimed = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                try (ClipTextModel.EditClaim c = m.claimForEdit()) {
                    claimed.countDown();
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            holder.start();
            claimed.await();
            String before = m.fingerprint();
            try (Tensor r = Tensors.floats(new float[16], m.device(), 16);
                 Tensor u = Tensors.floats(new float[64], m.device(), 64)) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> m.applyRankOneUpdate(ClipTextModel.fc2WeightName(0), r, u, "x"));
                assertTrue(e.getMessage().contains("is being edited by another thread"), e.getMessage());
                assertThrows(IllegalStateException.class, m::claimForEdit);
                done.countDown();
                holder.join();
                m.applyRankOneUpdate(ClipTextModel.fc2WeightName(0), r, u, "x"); // free again
            }
            assertEquals(List.of("x"), m.changes());
            assertEquals(before, m.fingerprint(), "a zero update leaves the content as it was");
        }
    }

    @Test
    void claimForEdit_isReentrant_onTheHoldingThread() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 4, false);
             ClipTextModel.EditClaim outer = m.claimForEdit();
             ClipTextModel.EditClaim inner = m.claimForEdit()) {
            assertFalse(m.isClosed());
        }
    }

    @Test
    void encode_textToArrays_matchesTheTensorPath() throws IOException {
        ClipTokenizer tok = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        try (ClipTextModel m = ClipTextModel.load(SharedData.resolve("models/tiny-random-clip-text"))) {
            EncodedText cat = m.encode(tok, "a photo of a cat");
            EncodedText dog = m.encode(tok, List.of("a photo of a cat", "a photo of a dog")).get(1);
            int d = m.config().hiddenSize();
            assertEquals(77, cat.inputIds().length);
            assertEquals(77 * d, cat.lastHiddenState().length);
            assertEquals(m.representationDim(), cat.representation().length);
            try (TensorScope scope = TensorScope.open()) {
                TextEncoding enc = m.encode(Tensors.longs(tok.inputIds("a photo of a cat"), m.device(), 1, 77));
                assertArrayEquals(Tensors.toFloats(enc.pooled()), cat.pooled(), 1e-6f);
                assertArrayEquals(Tensors.toFloats(enc.lastHiddenState()), cat.lastHiddenState(), 1e-6f);
            }
            assertEquals(1.0, cat.cosineSimilarity(cat), 1e-9);
            double s = cat.cosineSimilarity(dog);
            assertTrue(s < 1.0 - 1e-6 && s > -1.0, "different texts, different representations: " + s);
            float[] copy = cat.pooled();
            copy[0] += 1;
            assertNotEquals(copy[0], cat.pooled()[0], "accessors return copies");
            assertArrayEquals(java.util.Arrays.copyOfRange(cat.lastHiddenState(), d, 2 * d), cat.hiddenStateAt(1));
        }
    }

    @Test
    void tensorScope_closedOnAnotherThread_isRefused() throws Exception {
        TensorScope scope = TensorScope.open();
        try {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    scope.close();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            t.start();
            t.join();
            assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
            assertFalse(scope.isClosed());
        } finally {
            scope.close();
        }
        assertTrue(scope.isClosed());
    }

    @Test
    void toString_describesModelForJShell() {
        try (ClipTextModel m = ClipTextModel.random(SMALL, 5, false)) {
            String before = m.toString();
            assertTrue(before.contains("2 layers × 16") && before.contains("float") && before.contains("cpu")
                    && before.contains("fingerprint not computed"), before);
            String fp = m.fingerprint();
            assertTrue(m.toString().contains("fingerprint " + fp.substring(0, 12)), m.toString());
        }
    }

    @Test
    void load_withDeviceAndDtypeNames_needsNoJavaCppTypes() throws IOException {
        Path tiny = SharedData.resolve("models/tiny-random-clip-text");
        try (ClipTextModel a = ClipTextModel.load(tiny, "cpu", "float32"); ClipTextModel b = ClipTextModel.load(tiny)) {
            assertEquals(b.fingerprint(), a.fingerprint());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClipTextModel.load(tiny, "cpu", "int8"));
        assertTrue(e.getMessage().contains("unknown dtype 'int8'"), e.getMessage());
    }
}
