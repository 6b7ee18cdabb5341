package dev.refact.core;

import static dev.refact.core.TinyFixture.assertSameWeights;
import static dev.refact.core.TinyFixture.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsProvenance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class EditorTest extends TinyModelTest {
    static final EditRequest PRESIDENT = EditRequest.of("The President of the United States", "Donald Trump",
            "Joe Biden");

    private static Editor editor(Hyperparameters hp) {
        return Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
    }

    @Test
    void edit_raisesTargetProbability_andChangesOnlyTheLayerFc2ByRankOne() {
        Map<String, float[]> before = snapshot(model);
        EditResult result = editor(TinyFixture.hyperparameters().build()).edit(model, PRESIDENT);
        try {
            double[] p = result.targetProbabilities();
            assertTrue(result.targetProbability() > p[0], "p(target) rose from " + p[0] + " to " + result.targetProbability());
            double[] loss = result.losses();
            assertTrue(loss[loss.length - 1] < loss[0], "loss decreased");
            String w = ClipTextModel.fc2WeightName(1);
            for (String n : model.parameterNames()) {
                if (!n.equals(w)) {
                    assertArrayEquals(before.get(n), Tensors.toFloats(model.parameter(n)), n + " unchanged");
                }
            }
            // W' − W = r uᵀ (rank one, the stored factors)
            float[] after = Tensors.toFloats(model.parameter(w));
            float[] u = result.u();
            float[] r = result.r();
            assertEquals(128, u.length);
            assertEquals(32, r.length);
            double maxErr = 0;
            for (int a = 0; a < 32; a++) {
                for (int b = 0; b < 128; b++) {
                    double expected = before.get(w)[a * 128 + b] + (double) r[a] * u[b];
                    maxErr = Math.max(maxErr, Math.abs(after[a * 128 + b] - expected));
                }
            }
            assertTrue(maxErr < 1e-5, "W' = W + r uᵀ (max err " + maxErr + ")");
            double un = 0;
            for (float x : u) {
                un += x * x;
            }
            assertEquals(1.0, Math.sqrt(un), 1e-5, "‖u‖ = 1");
            assertEquals(List.of("keys", "solve", "value", "update"), new ArrayList<>(result.timings().keySet()));
        } finally {
            result.undo();
        }
        assertSameWeights(before, model);
    }

    @Test
    void edit_restoresWeightsExactly_onUndo() {
        Map<String, float[]> before = snapshot(model);
        String fp = model.fingerprint();
        EditResult result = editor(TinyFixture.hyperparameters().maxSteps(5).build()).edit(model, PRESIDENT);
        assertNotEquals(fp, model.fingerprint());
        result.undo();
        assertSameWeights(before, model);
        assertEquals(fp, model.fingerprint());
        assertTrue(model.changes().isEmpty());
        assertThrows(IllegalStateException.class, result::undo);
    }

    @Test
    void edit_sameInputs_bitIdenticalFactors() throws IOException {
        Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(10).build();
        EditResult a = editor(hp).edit(model, PRESIDENT);
        a.undo();
        try (ClipTextModel other = TinyFixture.model()) {
            EditResult b = editor(hp).edit(other, PRESIDENT);
            assertArrayEquals(a.u(), b.u());
            assertArrayEquals(a.r(), b.r());
            assertArrayEquals(a.losses(), b.losses());
            assertEquals(a.changeId(), b.changeId());
        }
    }

    @Test
    void edit_stopReasons_bothReachable() {
        EditResult cap = editor(TinyFixture.hyperparameters().maxSteps(3).probabilityThreshold(1.0).build())
                .edit(model, PRESIDENT);
        cap.undo();
        assertEquals(StopReason.STEP_CAP, cap.stopReason());
        assertEquals(3, cap.steps());
        assertEquals(4, cap.losses().length);
        EditResult conv = editor(TinyFixture.hyperparameters().probabilityThreshold(0.05).build())
                .edit(model, PRESIDENT);
        conv.undo();
        assertEquals(StopReason.CONVERGED, conv.stopReason());
        assertTrue(conv.targetProbability() > 0.05);
        assertEquals(conv.steps() + 1, conv.losses().length, "the converged forward is recorded too");
    }

    @Test
    void edit_clampFactor_boundsDelta() {
        EditResult r = editor(TinyFixture.hyperparameters().clampFactor(0.01).maxSteps(20).probabilityThreshold(1.0)
                .learningRate(1.0).build()).edit(model, PRESIDENT);
        r.undo();
        assertTrue(r.deltaNorm() <= 0.01 * r.t0Norm() * (1 + 1e-5), r.deltaNorm() + " vs " + 0.01 * r.t0Norm());
        assertTrue(r.deltaNorm() > 0.009 * r.t0Norm(), "the clamp was active");
    }

    @Test
    void edit_badInputs_leaveWeightsBitIdentical() {
        Map<String, float[]> before = snapshot(model);
        String fp = model.fingerprint();
        Editor ed = editor(TinyFixture.hyperparameters().build());
        StringBuilder longPrompt = new StringBuilder();
        for (int i = 0; i < 80; i++) {
            longPrompt.append("word ");
        }
        assertThrows(IllegalArgumentException.class,
                () -> ed.edit(model, EditRequest.of(longPrompt.toString(), "a", "b")));
        assertThrows(IllegalStateException.class, () -> editor(TinyFixture.hyperparameters().layer(5).build()));
        try (PointerScope scope = new PointerScope();
             CovarianceStats at5 = CovarianceStats.fromMatrix(stats.matrix(), 5, 1,
                     new StatsProvenance("x", 5, "copy", "", 1, "float64"), model.device())) {
            Editor beyond = Editor.builder().tokenizer(tokenizer).statistics(at5)
                    .hyperparameters(TinyFixture.hyperparameters().layer(5).build()).build();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> beyond.edit(model, PRESIDENT));
            assertTrue(e.getMessage().contains("layer 5 does not exist"), e.getMessage());
        }
        // singular C: all zeros
        try (PointerScope scope = new PointerScope();
             CovarianceStats zero = CovarianceStats.fromMatrix(Tensors.doubles(new double[128 * 128], model.device(),
                     128, 128), 1, 1, new StatsProvenance("x", 1, "zeros", "", 1, "float64"), model.device())) {
            Editor bad = Editor.builder().tokenizer(tokenizer).statistics(zero)
                    .hyperparameters(TinyFixture.hyperparameters().maxSteps(2).build()).build();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> bad.edit(model, PRESIDENT));
            assertTrue(e.getMessage().contains("layer 1"), e.getMessage());
        }
        assertSameWeights(before, model);
        assertEquals(fp, model.fingerprint());
        assertTrue(model.changes().isEmpty());
    }

    @Test
    void editList_sequential_undoInReverseOnly() {
        Map<String, float[]> before = snapshot(model);
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(5).build());
        List<EditResult> rs = ed.edit(model, List.of(PRESIDENT,
                EditRequest.of("a bowl of bananas", "a bowl of bananas", "a bowl of blue bananas")));
        assertEquals(2, rs.size());
        assertEquals(List.of(rs.get(0).changeId(), rs.get(1).changeId()), model.changes());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> rs.get(0).undo());
        assertTrue(e.getMessage().contains("undo the later changes first"), e.getMessage());
        rs.get(1).undo();
        rs.get(0).undo();
        assertSameWeights(before, model);
    }

    @Test
    void editList_failure_undoesEarlierEdits() {
        Map<String, float[]> before = snapshot(model);
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(3).build());
        StringBuilder longPrompt = new StringBuilder();
        for (int i = 0; i < 80; i++) {
            longPrompt.append("word ");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ed.edit(model,
                List.of(PRESIDENT, EditRequest.of(longPrompt.toString(), "x", "y"))));
        assertTrue(e.getMessage().startsWith("edit 1 of 2"), e.getMessage());
        assertSameWeights(before, model);
    }

    @Test
    void savedEdit_roundTrip_appliesBitExactlyToAnotherInstance(@TempDir Path dir) throws IOException {
        EditResult r = editor(TinyFixture.hyperparameters().maxSteps(10).build()).edit(model, PRESIDENT);
        Path file = dir.resolve("president.edit.safetensors");
        r.save(file);
        Map<String, float[]> edited = snapshot(model);
        r.undo();
        assertTrue(Files.size(file) < 20_000, "edit file is small: " + Files.size(file) + " bytes");
        SavedEdit loaded = SavedEdit.load(file);
        assertEquals(r.toSavedEdit(), loaded);
        try (ClipTextModel other = TinyFixture.model()) {
            loaded.apply(other, false);
            assertSameWeights(edited, other);
            assertEquals(List.of(r.changeId()), other.changes());
            assertThrows(IllegalStateException.class, () -> loaded.apply(other, true));
            other.undo(loaded.changeId());
            // a model with other weights: refused unless forced
            try (PointerScope scope = new PointerScope()) {
                Tensor w = other.copyOfParameter(ClipTextModel.fc2WeightName(0));
                other.replaceParameter(ClipTextModel.fc2WeightName(0), w.mul(new org.bytedeco.pytorch.Scalar(1.5)),
                        "scaled");
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loaded.apply(other, false));
            assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
            loaded.apply(other, true);
            assertEquals(List.of("scaled", r.changeId()), other.changes());
        }
    }

    @Test
    void savedEdit_load_rejectsOtherFiles(@TempDir Path dir) throws IOException {
        Path notEdit = dir.resolve("x.safetensors");
        new dev.refact.clip.io.SafetensorsWriter().addFloats("u", new float[] {1f}, 1).write(notEdit);
        IOException e = assertThrows(IOException.class, () -> SavedEdit.load(notEdit));
        assertTrue(e.getMessage().contains("not a refact edit file"), e.getMessage());
    }
}
