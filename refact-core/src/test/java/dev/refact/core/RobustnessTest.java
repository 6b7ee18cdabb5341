package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.ForeignStatistics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10 in the library: edits that did not do what they say, non-finite results, edit-file checks. */
final class RobustnessTest extends TinyModelTest {
    @TempDir
    Path dir;

    private static Map<String, float[]> snapshot() {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (String n : model.parameterNames()) {
            s.put(n, Tensors.toFloats(model.parameter(n)));
        }
        return s;
    }

    private static void assertUnchanged(Map<String, float[]> before) {
        for (Map.Entry<String, float[]> e : before.entrySet()) {
            assertArrayEquals(e.getValue(), Tensors.toFloats(model.parameter(e.getKey())), e.getKey());
        }
        assertTrue(model.changes().isEmpty(), model.changes().toString());
    }

    private static Editor editor(Hyperparameters hp) {
        return Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
    }

    @Test
    void edit_learningRate1e30_failsAsNotMoved_weightsUntouched() {
        Map<String, float[]> before = snapshot();
        Editor e = editor(TinyFixture.hyperparameters().learningRate(1e30).maxSteps(5).build());
        IllegalStateException ex = assertThrows(IllegalStateException.class,
                () -> e.edit(model, EditorTest.PRESIDENT));
        assertTrue(ex.getMessage().contains("did not move") || ex.getMessage().contains("diverged"), ex.getMessage());
        assertUnchanged(before);
    }

    @Test
    void edit_zeroSteps_failsAsNotMoved() {
        Map<String, float[]> before = snapshot();
        Editor e = editor(TinyFixture.hyperparameters().maxSteps(0).build());
        IllegalStateException ex = assertThrows(IllegalStateException.class,
                () -> e.edit(model, EditorTest.PRESIDENT));
        assertTrue(ex.getMessage().contains("did not move"), ex.getMessage());
        assertUnchanged(before);
    }

    @Test
    void edit_promptEndingInPunctuation_defaultsSubjectAndSucceeds() {
        EditResult r = editor(TinyFixture.hyperparameters().maxSteps(5).build()).edit(model,
                EditRequest.of("The President of the United States.", "Donald Trump", "Joe Biden"));
        try {
            assertEquals("The President of the United States", r.request().subject());
        } finally {
            r.undo();
        }
    }

    @Test
    void defaultSubject_stripsTrailingPunctuationAndEmojiOnly() {
        assertEquals("A photo of a cat", EditRequest.defaultSubject("A photo of a cat."));
        assertEquals("What a day", EditRequest.defaultSubject("What a day!!  "));
        assertEquals("Is it a dog", EditRequest.defaultSubject("Is it a dog?"));
        assertEquals("a corgi", EditRequest.defaultSubject("a corgi 🐶"));
        assertEquals("a thumbs up", EditRequest.defaultSubject("a thumbs up 👍🏽"));
        assertEquals("a red heart", EditRequest.defaultSubject("a red heart ❤️"));
        assertEquals("café", EditRequest.defaultSubject("café"));
        assertEquals("Mr. T", EditRequest.defaultSubject("Mr. T"));
        assertEquals("!!!", EditRequest.defaultSubject("!!!"));
        // a subject the user gives is kept as given
        assertEquals("cat.", new EditRequest("a cat.", "cat.", "x", "y").subject());
    }

    private Path savedEdit(float rScale) throws IOException {
        EditResult r = editor(TinyFixture.hyperparameters().maxSteps(10).build()).edit(model, EditorTest.PRESIDENT);
        SavedEdit s = r.toSavedEdit();
        r.undo();
        float[] rr = s.r();
        for (int i = 0; i < rr.length; i++) {
            rr[i] *= rScale;
        }
        SavedEdit scaled = new SavedEdit(s.changeId(), s.layer(), s.weightName(), s.u(), rr, s.modelFingerprint(),
                s.request(), s.hyperparametersJson(), s.provenance());
        Path f = dir.resolve("e" + rScale + ".edit.safetensors");
        scaled.save(f);
        return f;
    }

    @Test
    void apply_rScaledBy1e30_refusedBeforeWeightsChange_evenForcedTheEncoderCheckUndoesIt() throws IOException {
        Path f = savedEdit(1e30f);
        SavedEdit e = SavedEdit.load(f);
        Map<String, float[]> before = snapshot();
        IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.apply(model, false));
        assertTrue(ex.getMessage().contains("‖ΔW‖/‖W‖") && ex.getMessage().contains("--force"), ex.getMessage());
        assertUnchanged(before);
        IllegalStateException forced = assertThrows(IllegalStateException.class, () -> e.apply(model, true));
        assertTrue(forced.getMessage().contains("NaN/Inf") || forced.getMessage().contains("float32")
                || forced.getMessage().contains("not be finite") || forced.getMessage().contains("finite"),
                forced.getMessage());
        assertUnchanged(before);
    }

    @Test
    void apply_ordinaryEdit_passesMagnitudeAndFiniteChecks() throws IOException {
        SavedEdit e = SavedEdit.load(savedEdit(1f));
        e.apply(model, false);
        assertEquals(1, model.changes().size());
        model.undo(e.changeId());
    }

    /** Rewrites an edit file with one metadata entry or tensor changed. */
    private Path rewrite(Path f, String name, Consumer<Map<String, String>> meta, Consumer<float[]> u)
            throws IOException {
        Path out = dir.resolve(name);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            Map<String, String> m = new LinkedHashMap<>(sf.metadata());
            meta.accept(m);
            float[] uu = sf.readFloats("u");
            u.accept(uu);
            SafetensorsWriter w = new SafetensorsWriter();
            m.forEach(w::metadata);
            w.addFloats("u", uu, uu.length).addFloats("r", sf.readFloats("r"), sf.info("r").shape()[0]).write(out);
        }
        return out;
    }

    @Test
    void load_tamperedU_refusedByChecksum() throws IOException {
        Path f = rewrite(savedEdit(1f), "t.safetensors", m -> { }, u -> u[3] += 0.5f);
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedEdit.load(f));
        assertTrue(ex.getMessage().contains("checksum") && ex.getMessage().contains("'u'")
                || ex.getMessage().contains("u"), ex.getMessage());
        assertTrue(ex.getMessage().contains("does not match"), ex.getMessage());
    }

    @Test
    void load_missingChecksum_refused() throws IOException {
        Path f = rewrite(savedEdit(1f), "c.safetensors", m -> m.remove("r_sha256"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedEdit.load(f));
        assertTrue(ex.getMessage().contains("r_sha256"), ex.getMessage());
    }

    @Test
    void load_layerDisagreesWithWeight_refused() throws IOException {
        Path f = rewrite(savedEdit(1f), "l.safetensors", m -> m.put("layer", "0"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedEdit.load(f));
        assertTrue(ex.getMessage().contains("disagrees with 'layer' 0"), ex.getMessage());
    }

    @Test
    void load_negativeLayer_refused() throws IOException {
        Path f = rewrite(savedEdit(1f), "n.safetensors", m -> m.put("layer", "-1"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedEdit.load(f));
        assertTrue(ex.getMessage().contains("layer") && ex.getMessage().contains("-1"), ex.getMessage());
    }

    @Test
    void load_unknownEditVersion_refused() throws IOException {
        Path f = rewrite(savedEdit(1f), "v.safetensors", m -> m.put("refact.edit_version", "99"), u -> { });
        CheckpointFormatException ex = assertThrows(CheckpointFormatException.class, () -> SavedEdit.load(f));
        assertTrue(ex.getMessage().contains("version \"99\""), ex.getMessage());
    }

    @Test
    void save_absoluteModelSource_recordsOnlyTheFolderName() throws IOException {
        SavedEdit e = SavedEdit.load(savedEdit(1f));
        assertFalse(e.provenance().modelSource().contains("/"), e.provenance().modelSource());
        assertEquals("tiny-random-clip-text", e.provenance().modelSource());
        assertEquals("x", new EditProvenance("f", "C:\\models\\x", "s", "v", "r", "t").modelSource());
        assertEquals("random(seed=1)", new EditProvenance("f", "random(seed=1)", "s", "v", "r", "t").modelSource());
    }

    @Test
    void foreignStatistics_otherModelsFingerprint_refusedWithFlagNamed() {
        assertTrue(ForeignStatistics.computedOn(stats, model));
        try (ClipTextModel other = ClipTextModel.random(model.config(), 7, false)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> ForeignStatistics.check(stats, other, "stats.safetensors", "--allow-foreign-stats"));
            assertTrue(ex.getMessage().contains("another model") && ex.getMessage().contains("--allow-foreign-stats"),
                    ex.getMessage());
        }
    }
}
