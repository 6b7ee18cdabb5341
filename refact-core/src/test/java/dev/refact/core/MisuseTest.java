package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatisticsCache;
import dev.refact.core.stats.StatsOptions;
import dev.refact.core.stats.StatsProvenance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every misuse the public API must catch, each with its message. */
final class MisuseTest extends TinyModelTest {

    private static Hyperparameters fast() {
        return TinyFixture.hyperparameters().maxSteps(3).build();
    }

    private static Editor editor(CovarianceStats s, ProgressListener listener) {
        return Editor.builder().tokenizer(tokenizer).statistics(s).hyperparameters(fast()).listener(listener).build();
    }

    @Test
    void edit_failsFast_whenModelIsBeingEditedConcurrently() throws Exception {
        CountDownLatch inValueSearch = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ProgressListener blocking = new ProgressListener() {
            @Override
            public void phase(EditRequest request, String phase) {
                if (phase.equals("value")) {
                    inValueSearch.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        AtomicReference<EditResult> first = new AtomicReference<>();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                first.set(editor(stats, blocking).edit(model, EditorTest.PRESIDENT));
            } catch (Throwable e) {
                firstError.set(e);
            }
        });
        t.start();
        assertTrue(inValueSearch.await(60, TimeUnit.SECONDS), "the first edit reached the search");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> editor(stats, ProgressListener.NONE).edit(model, EditRequest.of("a photo of a cat", "cat", "dog")));
        assertTrue(e.getMessage().contains("is being edited by another thread"), e.getMessage());
        SavedEdit foreign = new SavedEdit("other", 1, ClipTextModel.fc2WeightName(1), new float[128], new float[32],
                model.fingerprint(), EditorTest.PRESIDENT, "{}", new EditProvenance("x", "x", "x", "x", "x", "x"));
        assertThrows(IllegalStateException.class, () -> foreign.apply(model, true), "weight changes wait too");
        release.countDown();
        t.join();
        assertEquals(null, firstError.get());
        assertEquals(List.of(first.get().changeId()), model.changes(), "only the first edit happened");
        first.get().undo();
        assertTrue(model.changes().isEmpty());
    }

    @Test
    void edit_refusesStatisticsOfAnotherModel_unlessAllowed() {
        ClipTextConfig other = model.config();
        String otherFingerprint;
        try (ClipTextModel m = ClipTextModel.random(other, 99, false)) {
            otherFingerprint = m.fingerprint();
        }
        StatsProvenance foreign = new StatsProvenance(otherFingerprint, 1, "elsewhere", "", stats.count(), "float64");
        String before = model.fingerprint();
        try (CovarianceStats s = CovarianceStats.fromMatrix(stats.matrix(), 1, stats.count(), foreign,
                model.device())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> editor(s, ProgressListener.NONE).edit(model, EditorTest.PRESIDENT));
            assertTrue(e.getMessage().contains("computed on a model with fingerprint " + otherFingerprint.substring(0, 12))
                    && e.getMessage().contains("allowStatisticsOfOtherModels"), e.getMessage());
            assertEquals(before, model.fingerprint(), "nothing changed");
            Editor lenient = Editor.builder().tokenizer(tokenizer).statistics(s).hyperparameters(fast())
                    .allowStatisticsOfOtherModels(true).build();
            EditResult r = lenient.edit(model, EditorTest.PRESIDENT);
            r.undo();
        }
        assertEquals(before, model.fingerprint());
    }

    @Test
    void edit_acceptsStatisticsOfTheBaseModel_afterEarlierEdits() {
        Editor ed = editor(stats, ProgressListener.NONE);
        List<EditResult> done = ed.edit(model, List.of(EditorTest.PRESIDENT,
                EditRequest.of("a photo of a cat", "cat", "dog")));
        assertEquals(2, model.changes().size());
        done.get(1).undo();
        done.get(0).undo();
    }

    @Test
    void savedEditApply_returnsUndoableHandle_andTwiceSaysAlreadyApplied(@TempDir Path dir) throws IOException {
        String base = model.fingerprint();
        EditResult r = editor(stats, ProgressListener.NONE).edit(model, EditorTest.PRESIDENT);
        String edited = model.fingerprint();
        IllegalStateException again = assertThrows(IllegalStateException.class,
                () -> r.toSavedEdit().apply(model, false));
        assertTrue(again.getMessage().contains("already applied"), again.getMessage());
        r.undo();
        IllegalStateException undone = assertThrows(IllegalStateException.class, r::undo);
        assertTrue(undone.getMessage().contains("already undone"), undone.getMessage());
        Path file = dir.resolve("e.edit.safetensors");
        r.save(file);
        AppliedEdit applied = SavedEdit.load(file).apply(model, false);
        assertEquals(edited, model.fingerprint(), "the saved edit gives the same weights");
        assertEquals(r.changeId(), applied.changeId());
        IllegalStateException twice = assertThrows(IllegalStateException.class,
                () -> SavedEdit.load(file).apply(model, true));
        assertTrue(twice.getMessage().contains("already applied"), twice.getMessage());
        applied.undo();
        assertTrue(applied.isUndone());
        assertThrows(IllegalStateException.class, applied::undo);
        assertEquals(base, model.fingerprint());
    }

    @Test
    void savedEditAccessors_returnCopies() {
        float[] u = new float[128];
        SavedEdit e = new SavedEdit("c", 1, ClipTextModel.fc2WeightName(1), u, new float[32], model.fingerprint(),
                EditorTest.PRESIDENT, "{}", new EditProvenance("x", "x", "x", "x", "x", "x"));
        e.u()[0] = 5f;
        e.r()[0] = 5f;
        u[1] = 7f;
        assertEquals(0f, e.u()[0]);
        assertEquals(0f, e.u()[1]);
        assertEquals(0f, e.r()[0]);
    }

    @Test
    @SuppressWarnings("deprecation")
    void statistics_afterClose_sayClosed_andFreeTheirMatrix() {
        CovarianceStats s = CovarianceStats.fromMatrix(stats.matrix(), 1, stats.count(), stats.provenance(),
                model.device());
        Editor built = editor(s, ProgressListener.NONE);
        Tensor matrix = s.matrix();
        assertEquals(1, matrix.referenceCount(), "the statistics are the matrix's only owner");
        assertArrayEquals(stats.matrixValues(), s.matrixValues());
        assertTrue(s.toString().startsWith("CovarianceStats[layer 1, 128×128 float64"), s.toString());
        s.close();
        assertTrue(matrix.isNull());
        assertTrue(s.isClosed());
        for (org.junit.jupiter.api.function.Executable call : List.<org.junit.jupiter.api.function.Executable>of(
                s::matrixValues, s::dim, s::layer, () -> s.save(Path.of("unused")), () -> s.withDamping(0.1))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertTrue(e.getMessage().endsWith("are closed"), e.getMessage());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> editor(s, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        IllegalStateException late = assertThrows(IllegalStateException.class,
                () -> built.edit(model, EditorTest.PRESIDENT));
        assertTrue(late.getMessage().endsWith("are closed"), late.getMessage());
        assertTrue(model.changes().isEmpty());
        s.close();
    }

    @Test
    void statisticsCache_computesOnce_thenHits(@TempDir Path dir) throws IOException {
        StatisticsCache cache = new StatisticsCache(dir.resolve("stats"));
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(StatisticsCache.class.getName());
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Level oldLevel = jul.getLevel();
        jul.setLevel(java.util.logging.Level.FINE);
        jul.addHandler(capture);
        AtomicInteger corpusReads = new AtomicInteger();
        StatsOptions options = StatsOptions.builder().corpusName("tiny").sampleLimit(22).build();
        double[] first;
        try (CovarianceStats s = cache.getOrCompute(model, tokenizer, 1, () -> {
            corpusReads.incrementAndGet();
            return TinyFixture.CORPUS;
        }, options, p -> { })) {
            first = s.matrixValues();
            assertEquals(model.fingerprint(), s.provenance().modelFingerprint());
        }
        Path file = cache.fileFor(model.fingerprint(), 1, "tiny", 22);
        assertTrue(Files.isRegularFile(file), file.toString());
        try (CovarianceStats s = cache.getOrCompute(model, tokenizer, 1, () -> {
            corpusReads.incrementAndGet();
            return TinyFixture.CORPUS;
        }, options, p -> { })) {
            assertArrayEquals(first, s.matrixValues(), "read back bit for bit");
        }
        assertEquals(1, corpusReads.get(), "the second call is a cache hit");
        jul.removeHandler(capture);
        jul.setLevel(oldLevel);
        assertTrue(logged.stream().anyMatch(m -> m.startsWith("statistics cache miss: "))
                && logged.stream().anyMatch(m -> m.startsWith("statistics cache hit: " + file)), logged.toString());
        assertTrue(cache.find(model, 2, "tiny", 22).isEmpty(), "another layer is another entry");
        assertThrows(IllegalArgumentException.class, () -> cache.fileFor(model.fingerprint(), 1, "../x", 1));
    }

    @Test
    void pretrained_bundlesModelTokenizerAndStatistics_andClosesThem(@TempDir Path dir) throws IOException {
        ClipTextModel m = TinyFixture.model();
        CovarianceStats s = TinyFixture.stats(m, tokenizer, 1, 0.01);
        Pretrained p = Pretrained.of(m, tokenizer, new StatisticsCache(dir));
        p.useStatistics(s);
        assertTrue(p.toString().contains("statistics for layers [1]"), p.toString());
        double before = p.encode("The President of the United States").cosineSimilarity(p.encode("Joe Biden"));
        EditResult r = p.editor(fast()).edit(p.model(), EditorTest.PRESIDENT);
        double after = p.encode("The President of the United States").cosineSimilarity(p.encode("Joe Biden"));
        assertNotEquals(before, after, "the edit moved the representation");
        r.undo();
        assertEquals(before, p.encode("The President of the United States").cosineSimilarity(p.encode("Joe Biden")),
                1e-12);
        EditResult pending = p.editor(fast()).edit(p.model(), EditorTest.PRESIDENT);
        p.close();
        IllegalStateException closedModel = assertThrows(IllegalStateException.class, pending::undo);
        assertTrue(closedModel.getMessage().endsWith("is closed"), closedModel.getMessage());
        assertThrows(IllegalStateException.class, () -> p.editor(fast()).edit(m, EditorTest.PRESIDENT));
        assertTrue(m.isClosed());
        assertTrue(s.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.encode("x"));
        assertTrue(e.getMessage().endsWith("is closed"), e.getMessage());
        assertFalse(p.toString().isEmpty());
        p.close();
    }

    /** The README's "Use it as a library" sample, on a diffusers-layout folder built from the tiny fixture. */
    @Test
    void pretrainedLoad_readmeSample_runsOnADiffusersFolder(@TempDir Path dir) throws IOException {
        Path root = dir.resolve("sd");
        model.save(root.resolve("text_encoder"));
        Files.createDirectories(root.resolve("tokenizer"));
        for (String f : new String[] {"vocab.json", "merges.txt"}) {
            Files.copy(TinyFixture.TOKENIZER.resolve(f), root.resolve("tokenizer").resolve(f));
        }
        Path statsFile = dir.resolve("layer1.stats.safetensors");
        stats.save(statsFile);
        try (Pretrained sd = Pretrained.load(root, new StatisticsCache(dir.resolve("cache")))) {
            sd.useStatistics(CovarianceStats.load(statsFile));
            EditResult result = sd.editor(fast()).edit(sd.model(), EditorTest.PRESIDENT);
            assertTrue(result.toString().startsWith("EditResult["), result.toString());
            double s = sd.encode("The President of the United States").cosineSimilarity(sd.encode("Joe Biden"));
            assertTrue(Double.isFinite(s));
            result.save(dir.resolve("president.edit.safetensors"));
            sd.model().save(dir.resolve("edited").resolve("text_encoder"));
            result.undo();
            assertEquals(model.fingerprint(), sd.model().fingerprint(), "same weights as the fixture it was saved from");
        }
    }
}
