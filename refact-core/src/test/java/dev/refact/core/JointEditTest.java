package dev.refact.core;

import static dev.refact.core.TinyFixture.assertSameWeights;
import static dev.refact.core.TinyFixture.snapshot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Joint edits, batched v* search, conflicts, ridge and protected sequential edits on the tiny fixture. */
final class JointEditTest extends TinyModelTest {
    static final List<EditRequest> THREE = List.of(
            EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden"),
            EditRequest.of("a bowl of bananas", "a bowl of bananas", "a bowl of blue bananas"),
            new EditRequest("a photo of the eiffel tower", "the eiffel tower", "the eiffel tower",
                    "the statue of liberty"));

    private static Editor editor(Hyperparameters hp) {
        return Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
    }

    /** fc2 output at the bare subject's last token, from a forward pass of the current weights. */
    private static float[] bareOutput(ClipTextModel m, String subject) {
        try (PointerScope scope = new PointerScope();
             PromptBatch b = PromptBatch.of(tokenizer, m, List.of(subject), subject);
             MlpTrace t = m.traceMlp(b.ids(), 1)) {
            return Tensors.toFloats(KeyComputer.gather(t.output(), b).select(0, 0));
        }
    }

    private static double relDiff(float[] a, float[] b, float[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void editJointly_threeRequests_allHoldAtFloatPrecision_andUndoRestoresBits() {
        Map<String, float[]> before = snapshot(model);
        String fp = model.fingerprint();
        JointEditResult r = editor(TinyFixture.hyperparameters().maxSteps(20).build()).editJointly(model, THREE);
        try {
            assertEquals(3, r.outcomes().size());
            assertEquals(3, r.rows());
            assertTrue(r.conditionNumber() >= 1 && r.conditionNumber() < JointOptions.DEFAULT_MAX_CONDITION,
                    "condition " + r.conditionNumber());
            assertTrue(r.maxResidual() < 1e-4, "residual " + r.maxResidual());
            float[][] vStar = r.vStar();
            for (int i = 0; i < 3; i++) {
                float[] o = bareOutput(model, THREE.get(i).subject());
                assertTrue(relDiff(o, vStar[i], vStar[i]) < 1e-5, "request " + i + " holds: " + relDiff(o, vStar[i], vStar[i]));
                assertTrue(r.outcomes().get(i).steps() > 0);
            }
            // W' − W = Σ r_i u_iᵀ
            String w = ClipTextModel.fc2WeightName(1);
            float[] after = Tensors.toFloats(model.parameter(w));
            float[][] u = r.u();
            float[][] rr = r.r();
            double maxErr = 0;
            for (int a = 0; a < 32; a++) {
                for (int b = 0; b < 128; b++) {
                    double d = 0;
                    for (int i = 0; i < 3; i++) {
                        d += (double) rr[i][a] * u[i][b];
                    }
                    maxErr = Math.max(maxErr, Math.abs(after[a * 128 + b] - before.get(w)[a * 128 + b] - d));
                }
            }
            assertTrue(maxErr < 1e-6, "W' = W + Σ r uᵀ (max err " + maxErr + ")");
            assertEquals(List.of(r.changeId()), model.changes());
            // undo keeps the 3 factor rows (3 × (32 + 128) floats), not a copy of the [32,128] weight
            assertEquals(3L * (32 + 128) * 4, model.journalBytes());
        } finally {
            r.undo();
        }
        assertSameWeights(before, model);
        assertEquals(fp, model.fingerprint());
        assertEquals(0, model.journalBytes());
    }

    @Test
    void editJointly_oneRequest_equalsSingleEditBitForBit() {
        Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(15).build();
        EditResult single = editor(hp).edit(model, THREE.get(0));
        Map<String, float[]> singleWeights = snapshot(model);
        String singleFp = model.fingerprint();
        single.undo();
        JointEditResult joint = editor(hp).editJointly(model, List.of(THREE.get(0)));
        try {
            assertSameWeights(singleWeights, model);
            assertEquals(singleFp, model.fingerprint());
            assertEquals(single.changeId(), joint.changeId());
            assertArrayEquals(single.u(), joint.u()[0]);
            assertArrayEquals(single.r(), joint.r()[0]);
            assertArrayEquals(single.vStar(), joint.vStar()[0]);
            assertEquals(single.steps(), joint.outcomes().get(0).steps());
            assertEquals(single.stopReason(), joint.outcomes().get(0).stopReason());
            assertEquals(single.targetProbability(), joint.outcomes().get(0).targetProbability());
            assertEquals(1.0, joint.conditionNumber());
        } finally {
            joint.undo();
        }
    }

    /**
     * In float64 the batched searches reproduce the single ones (steps, stop reasons, v*, p) to rounding. Requests
     * leave the batch at different steps (a threshold some reach early).
     */
    @Test
    void batchedSearch_eachVStarEqualsItsSingleEdit_float64() throws IOException {
        try (ClipTextModel m64 = ClipTextModel.load(TinyFixture.MODEL, Tensors.cpu(), torch.ScalarType.Double);
             CovarianceStats s64 = TinyFixture.stats(m64, tokenizer, 1, 0.01)) {
            Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(40).probabilityThreshold(0.3).build();
            Editor ed = Editor.builder().tokenizer(tokenizer).statistics(s64).hyperparameters(hp).build();
            JointEditResult joint = ed.editJointly(m64, THREE);
            joint.undo();
            for (int i = 0; i < THREE.size(); i++) {
                EditResult single = ed.edit(m64, THREE.get(i));
                single.undo();
                RequestOutcome o = joint.outcomes().get(i);
                assertEquals(single.steps(), o.steps(), "steps of request " + i);
                assertEquals(single.stopReason(), o.stopReason(), "stop reason of request " + i);
                assertEquals(single.targetProbability(), o.targetProbability(), 1e-9, "p(target) of request " + i);
                assertTrue(relDiff(joint.vStar()[i], single.vStar(), single.vStar()) < 1e-6,
                        "v* of request " + i + ": " + relDiff(joint.vStar()[i], single.vStar(), single.vStar()));
                assertTrue(relDiff(joint.kBar()[i], single.kMean(), single.kMean()) < 1e-6, "k̄ of request " + i);
            }
            assertTrue(joint.outcomes().stream().map(RequestOutcome::steps).distinct().count() > 1,
                    "requests left the batch at different steps: " + joint.outcomes());
        }
    }

    /**
     * More requests than one chunk: the keys and searches run in chunks (2 + 2 + 1 here) and give, in float64, the
     * same edit as one batch — every request holds, and u, k̄, v*, steps agree to rounding. The conflict check sees
     * every row: a contradiction split across chunks is still refused.
     */
    @Test
    void editJointly_inChunks_sameEditAsOneBatch_float64() throws IOException {
        List<EditRequest> five = new java.util.ArrayList<>(THREE);
        five.add(EditRequest.of("a red apple on a table", "a red apple", "a green pear"));
        five.add(EditRequest.of("the tallest mountain", "the tallest mountain", "a small hill"));
        try (ClipTextModel m64 = ClipTextModel.load(TinyFixture.MODEL, Tensors.cpu(), torch.ScalarType.Double);
             CovarianceStats s64 = TinyFixture.stats(m64, tokenizer, 1, 0.01)) {
            Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(30).probabilityThreshold(0.3).build();
            RefactEditor ed = new RefactEditor(hp, s64, tokenizer, ProgressListener.NONE);
            String fp = m64.fingerprint();
            JointEditResult whole = ed.editJointly(m64, five, JointOptions.defaults(), 32);
            whole.undo();
            JointEditResult chunked = ed.editJointly(m64, five, JointOptions.defaults(), 2);
            assertTrue(chunked.maxResidual() < 1e-6, "residual " + chunked.maxResidual());
            assertEquals(whole.conditionNumber(), chunked.conditionNumber(), 1e-9 * whole.conditionNumber());
            for (int i = 0; i < five.size(); i++) {
                assertTrue(relDiff(chunked.u()[i], whole.u()[i], whole.u()[i]) < 1e-6, "u of request " + i);
                assertTrue(relDiff(chunked.kBar()[i], whole.kBar()[i], whole.kBar()[i]) < 1e-6, "k̄ of request " + i);
                assertTrue(relDiff(chunked.vStar()[i], whole.vStar()[i], whole.vStar()[i]) < 1e-6,
                        "v* of request " + i + ": " + relDiff(chunked.vStar()[i], whole.vStar()[i], whole.vStar()[i]));
                assertEquals(whole.outcomes().get(i).steps(), chunked.outcomes().get(i).steps(), "steps of " + i);
                assertTrue(relDiff(chunked.r()[i], whole.r()[i], whole.r()[i]) < 1e-6, "r of request " + i);
            }
            chunked.undo();
            assertEquals(fp, m64.fingerprint());
            // request 4 contradicts request 0 (same subject, other target), three chunks apart
            List<EditRequest> contradiction = new java.util.ArrayList<>(five);
            contradiction.add(EditRequest.of("The President of the United States", "Donald Trump", "Kamala Harris"));
            EditConflictException e = assertThrows(EditConflictException.class,
                    () -> ed.editJointly(m64, contradiction, JointOptions.defaults(), 2));
            assertEquals(List.of(0, 5), e.requests());
            assertEquals(fp, m64.fingerprint());
        }
    }

    /**
     * In float32 (the default) the batch changes matrix shapes, hence rounding; p(target), steps and stop reasons
     * agree, and v* agrees to 1e-5 for searches that make steady progress. (A slowly converging search can drift by
     * a few percent along directions the loss barely sees: Adam rescales small rounding differences of the gradient
     * to steps of size lr. The float64 test above shows the computation itself is the same.)
     */
    @Test
    void batchedSearch_float32_matchesSingleSearches() {
        Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(25).probabilityThreshold(0.25).build();
        JointEditResult joint = editor(hp).editJointly(model, THREE);
        joint.undo();
        for (int i = 0; i < THREE.size(); i++) {
            EditResult single = editor(hp).edit(model, THREE.get(i));
            single.undo();
            RequestOutcome o = joint.outcomes().get(i);
            assertEquals(single.steps(), o.steps(), "steps of request " + i);
            assertEquals(single.stopReason(), o.stopReason(), "stop reason of request " + i);
            assertEquals(single.targetProbability(), o.targetProbability(), 2e-3, "p(target) of request " + i);
            if (i < 2) {
                assertTrue(relDiff(joint.vStar()[i], single.vStar(), single.vStar()) < 1e-5,
                        "v* of request " + i + ": " + relDiff(joint.vStar()[i], single.vStar(), single.vStar()));
            }
        }
    }

    @Test
    void editJointly_sameSubjectDifferentTargets_refusedNamingRequests_weightsUntouched() {
        Map<String, float[]> before = snapshot(model);
        String fp = model.fingerprint();
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(5).build());
        List<EditRequest> contradictory = List.of(THREE.get(1), THREE.get(0),
                EditRequest.of("The President of the United States", "Donald Trump", "Kamala Harris"));
        EditConflictException e = assertThrows(EditConflictException.class,
                () -> ed.editJointly(model, contradictory));
        assertEquals(List.of(1, 2), e.requests());
        assertTrue(e.getMessage().contains("request 1 (\"The President of the United States\"")
                && e.getMessage().contains("request 2") && e.getMessage().contains("different targets"), e.getMessage());
        // a duplicate, and an ill-conditioned set (limit set below its condition number)
        assertThrows(EditConflictException.class, () -> ed.editJointly(model, List.of(THREE.get(0), THREE.get(0))));
        EditConflictException ill = assertThrows(EditConflictException.class,
                () -> ed.editJointly(model, THREE, JointOptions.defaults().withMaxCondition(1.0000001)));
        assertTrue(ill.getMessage().contains("condition number") && ill.getMessage().contains("request "),
                ill.getMessage());
        assertTrue(ill.requests().size() >= 2, ill.requests().toString());
        assertSameWeights(before, model);
        assertEquals(fp, model.fingerprint());
        assertTrue(model.changes().isEmpty());
    }

    @Test
    void editJointly_ridge_acceptsContradiction_asApproximateEdit() {
        Map<String, float[]> before = snapshot(model);
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(5).build());
        List<EditRequest> contradictory = List.of(THREE.get(0),
                EditRequest.of("The President of the United States", "Donald Trump", "Kamala Harris"));
        JointEditResult r = ed.editJointly(model, contradictory, JointOptions.defaults().withRidge(0.01));
        try {
            assertEquals(0.01, r.ridge());
            assertTrue(Double.isInfinite(r.conditionNumber()) || r.conditionNumber() > 1e6, "" + r.conditionNumber());
            assertTrue(r.maxResidual() > 1e-3, "approximate: " + r.maxResidual());
            assertTrue(Double.isFinite(r.maxResidual()));
        } finally {
            r.undo();
        }
        assertSameWeights(before, model);
    }

    @Test
    void editSequentially_protect_keepsEarlierEditsOutputs() {
        Map<String, float[]> before = snapshot(model);
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(20).build());
        List<JointEditResult> plain = ed.editSequentially(model, THREE, JointOptions.defaults(), false);
        float[] v0 = plain.get(0).vStar()[0];
        double driftPlain = relDiff(bareOutput(model, THREE.get(0).subject()), v0, v0);
        for (int i = plain.size() - 1; i >= 0; i--) {
            plain.get(i).undo();
        }
        assertSameWeights(before, model);
        List<JointEditResult> prot = ed.editSequentially(model, THREE, JointOptions.defaults(), true);
        try {
            assertEquals(0, prot.get(0).protectedRows().size());
            assertEquals(2, prot.get(2).protectedRows().size());
            assertEquals(3, prot.get(2).rows());
            for (int i = 0; i < 2; i++) {
                float[] vi = prot.get(i).vStar()[0];
                double drift = relDiff(bareOutput(model, THREE.get(i).subject()), vi, vi);
                assertTrue(drift < 1e-5, "edit " + i + " kept its output: drift " + drift);
            }
            assertTrue(prot.get(2).protectedDrift() < 1e-5, "" + prot.get(2).protectedDrift());
            assertTrue(prot.get(2).maxResidual() < 1e-4, "" + prot.get(2).maxResidual());
            assertTrue(driftPlain > 1e-4, "without protection later edits move edit 0's output: " + driftPlain);
            // the first of a protected sequence is an ordinary single edit
            assertArrayEquals(plain.get(0).r()[0], prot.get(0).r()[0]);
        } finally {
            for (int i = prot.size() - 1; i >= 0; i--) {
                prot.get(i).undo();
            }
        }
        assertSameWeights(before, model);
    }

    @Test
    void savedJointEdit_roundTrip_appliesBitExactly(@TempDir Path dir) throws IOException {
        JointEditResult r = editor(TinyFixture.hyperparameters().maxSteps(8).build()).editJointly(model, THREE);
        Path file = dir.resolve("three.joint.safetensors");
        r.save(file);
        Map<String, float[]> edited = snapshot(model);
        r.undo();
        assertTrue(SavedJointEdit.isJointEditFile(file));
        SavedJointEdit loaded = SavedJointEdit.load(file);
        assertEquals(r.toSavedEdit(), loaded);
        assertEquals(THREE, loaded.requests());
        assertEquals(3, loaded.rows().size());
        assertEquals(r.outcomes().get(1).steps(), loaded.rows().get(1).steps());
        try (ClipTextModel other = TinyFixture.model()) {
            loaded.apply(other, false);
            assertSameWeights(edited, other);
            assertEquals(List.of(r.changeId()), other.changes());
            assertThrows(IllegalStateException.class, () -> loaded.apply(other, true));
            other.undo(r.changeId());
            try (PointerScope scope = new PointerScope()) {
                Tensor w = other.copyOfParameter(ClipTextModel.fc2WeightName(0));
                other.replaceParameter(ClipTextModel.fc2WeightName(0), w.mul(new org.bytedeco.pytorch.Scalar(1.5)),
                        "scaled");
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loaded.apply(other, false));
            assertTrue(e.getMessage().contains("fingerprint"), e.getMessage());
        }
        IOException notJoint = assertThrows(IOException.class, () -> SavedJointEdit.load(dir.resolve("x.safetensors")));
        assertNotEquals(null, notJoint.getMessage());
    }

    @Test
    void releasedCode_stepCapCountsLoopIterations_99AdamUpdates() throws IOException {
        Hyperparameters rel = Hyperparameters.releasedCode();
        assertEquals(0, rel.numContrastive());
        assertEquals(StepCounting.LOOP_ITERATIONS, rel.stepCounting());
        assertEquals(99, rel.adamUpdateCap());
        assertEquals(Hyperparameters.roleEdits().toBuilder().numContrastive(0).stepCounting(StepCounting.LOOP_ITERATIONS)
                .build(), rel);
        assertEquals(StepCounting.ADAM_UPDATES, Hyperparameters.roleEdits().stepCounting());
        assertEquals(rel, Hyperparameters.fromJson(rel.toJson()));
        EditResult r = editor(rel.toBuilder().layer(1).probabilityThreshold(1.0).build()).edit(model, THREE.get(0));
        r.undo();
        assertEquals(99, r.steps());
        assertEquals(100, r.losses().length, "100 loop iterations, the last one only measures");
        EditResult ours = editor(TinyFixture.hyperparameters().numContrastive(0).probabilityThreshold(1.0).build())
                .edit(model, THREE.get(0));
        ours.undo();
        assertEquals(100, ours.steps());
        // the first 99 updates are the same in both counts
        assertArrayEquals(java.util.Arrays.copyOf(ours.losses(), 100), r.losses());
    }

    /** A 2-row joint edit of layer 1 made of small values (no search), computed on {@code fingerprint}. */
    private static SavedJointEdit synthetic(String fingerprint) {
        int in = model.config().intermediateSize();
        int out = model.config().hiddenSize();
        float[][][] t = new float[5][2][];
        java.util.Random rnd = new java.util.Random(3);
        for (int k = 0; k < 5; k++) {
            for (int i = 0; i < 2; i++) {
                t[k][i] = new float[k == 1 || k == 4 ? out : in];
                for (int j = 0; j < t[k][i].length; j++) {
                    t[k][i][j] = (float) (rnd.nextGaussian() * 0.01);
                }
            }
        }
        List<SavedJointEdit.Row> rows = List.of(
                new SavedJointEdit.Row(THREE.get(0), SavedJointEdit.Role.EDIT, "joint-synthetic", 3, "converged", 0.9,
                        1e-6),
                new SavedJointEdit.Row(THREE.get(1), SavedJointEdit.Role.EDIT, "joint-synthetic", 4, "step_cap", 0.5,
                        1e-6));
        return new SavedJointEdit("joint-synthetic", 1, ClipTextModel.fc2WeightName(1), t[0], t[1], t[2], t[3], t[4],
                fingerprint, rows, TinyFixture.hyperparameters().build().toJson(), 1.5, 0,
                new EditProvenance(fingerprint, "tiny", "stats", "v", "r", "t"));
    }

    /** Rewrites a joint edit file with its metadata changed and the tensor u changed. */
    private static Path rewrite(Path f, Path out, Consumer<Map<String, String>> meta, Consumer<float[]> u)
            throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            Map<String, String> m = new LinkedHashMap<>(sf.metadata());
            meta.accept(m);
            SafetensorsWriter w = new SafetensorsWriter();
            m.forEach(w::metadata);
            for (String name : new String[] {"u", "r", "k_bar", "k_b", "v_star"}) {
                float[] v = sf.readFloats(name);
                if (name.equals("u")) {
                    u.accept(v);
                }
                long[] shape = sf.info(name).shape();
                w.addFloats(name, v, shape[0], shape[1]);
            }
            w.write(out);
        }
        return out;
    }

    @Test
    void savedJointEditAccessors_returnDeepCopies() {
        SavedJointEdit e = synthetic("fp");
        float[][] u0 = e.u();
        float u00 = u0[0][0];
        e.u()[0][0] = 5f;
        e.r()[1][2] = 5f;
        e.kBar()[0][1] = 5f;
        e.kBare()[1][0] = 5f;
        e.vStar()[0][0] = 5f;
        e.u()[1] = new float[1];
        assertEquals(u00, e.u()[0][0]);
        assertEquals(synthetic("fp"), e);
        assertArrayEquals(synthetic("fp").r(), e.r());
        assertArrayEquals(synthetic("fp").kBar(), e.kBar());
        assertArrayEquals(synthetic("fp").kBare(), e.kBare());
        assertArrayEquals(synthetic("fp").vStar(), e.vStar());
        // the constructor copies too
        float[][] u = synthetic("fp").u();
        SavedJointEdit c = new SavedJointEdit(e.changeId(), e.layer(), e.weightName(), u, e.r(), e.kBar(), e.kBare(),
                e.vStar(), e.modelFingerprint(), e.rows(), e.hyperparametersJson(), e.conditionNumber(), e.ridge(),
                e.provenance());
        u[0][0] = 7f;
        assertEquals(u00, c.u()[0][0]);
    }

    @Test
    void savedJointEditLoad_unknownVersion_refusedNamingFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("j.joint.safetensors");
        synthetic("fp").save(f);
        assertEquals(synthetic("fp"), SavedJointEdit.load(f), "what save writes, load reads");
        Path v = rewrite(f, dir.resolve("v.safetensors"), m -> m.put("refact.edit_version", "99"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(v));
        assertTrue(ex.getMessage().contains("v.safetensors") && ex.getMessage().contains("version \"99\""),
                ex.getMessage());
        assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
        Path none = rewrite(f, dir.resolve("none.safetensors"), m -> m.remove("refact.edit_version"), u -> { });
        ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(none));
        assertTrue(ex.getMessage().contains("none.safetensors") && ex.getMessage().contains("refact.edit_version"),
                ex.getMessage());
    }

    @Test
    void savedJointEditLoad_tamperedOrUncheckedU_refusedByChecksum(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("j.joint.safetensors");
        synthetic("fp").save(f);
        Path t = rewrite(f, dir.resolve("t.safetensors"), m -> { }, u -> u[3] += 0.5f);
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(t));
        assertTrue(ex.getMessage().contains("t.safetensors") && ex.getMessage().contains("'u'")
                && ex.getMessage().contains("does not match its checksum"), ex.getMessage());
        assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
        Path c = rewrite(f, dir.resolve("c.safetensors"), m -> m.remove("r_sha256"), u -> { });
        ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(c));
        assertTrue(ex.getMessage().contains("c.safetensors") && ex.getMessage().contains("r_sha256"), ex.getMessage());
    }

    @Test
    void savedJointEditLoad_layerDisagreesWithWeight_refusedNamingFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("j.joint.safetensors");
        synthetic("fp").save(f);
        Path l = rewrite(f, dir.resolve("l.safetensors"), m -> m.put("layer", "0"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(l));
        assertTrue(ex.getMessage().contains("l.safetensors") && ex.getMessage().contains("disagrees with 'layer' 0"),
                ex.getMessage());
        assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
        Path w = rewrite(f, dir.resolve("w.safetensors"), m -> m.put("weight", "text_model.embeddings.weight"),
                u -> { });
        ex = assertThrows(CheckpointFormatException.class, () -> SavedJointEdit.load(w));
        assertTrue(ex.getMessage().contains("w.safetensors") && ex.getMessage().contains("'weight'"), ex.getMessage());
    }

    @Test
    void savedJointEditApply_twiceWithoutForce_saysAlreadyApplied() {
        Map<String, float[]> before = snapshot(model);
        SavedJointEdit e = synthetic(model.fingerprint());
        AppliedEdit applied = e.apply(model, false);
        try {
            IllegalStateException again = assertThrows(IllegalStateException.class, () -> e.apply(model, false));
            assertTrue(again.getMessage().contains("already applied"), again.getMessage());
        } finally {
            applied.undo();
        }
        assertSameWeights(before, model);
    }

    @Test
    void editSequentially_conflictWithProtectedEdit_throwsEditConflictException_earlierEditsUndone() {
        Map<String, float[]> before = snapshot(model);
        Editor ed = editor(TinyFixture.hyperparameters().maxSteps(3).build());
        List<EditRequest> contradictory = List.of(THREE.get(0),
                EditRequest.of("The President of the United States", "Donald Trump", "Kamala Harris"));
        try {
            ed.editSequentially(model, contradictory, JointOptions.defaults(), true);
            org.junit.jupiter.api.Assertions.fail("a conflicting sequence was accepted");
        } catch (EditConflictException e) {
            assertTrue(e.getMessage().startsWith("edit 1 of 2") && e.getMessage().contains("undone")
                    && e.getMessage().contains("different targets"), e.getMessage());
            assertEquals(List.of(0, 1), e.requests());
            assertTrue(e.getCause() instanceof EditConflictException, String.valueOf(e.getCause()));
        }
        assertSameWeights(before, model);
        assertTrue(model.changes().isEmpty(), model.changes().toString());
    }

    @Test
    void editConflictException_serialized_keepsRequests() throws Exception {
        EditConflictException e = new EditConflictException("conflict", List.of(2, 0), 3.5);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(e);
        }
        EditConflictException back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (EditConflictException) in.readObject();
        }
        assertEquals(List.of(2, 0), back.requests());
        assertEquals(3.5, back.conditionNumber());
        assertEquals("conflict", back.getMessage());
    }
}
