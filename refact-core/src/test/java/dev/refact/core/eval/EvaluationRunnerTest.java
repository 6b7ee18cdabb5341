package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner end to end on the tiny fixture (layer 1 of 3, few v* steps): the scores are the evaluator's and
 * the editor's, results files resume exactly, configurations are checked, reports are written.
 */
final class EvaluationRunnerTest {
    static ClipTokenizer tokenizer;
    static ClipTextModel model;
    static CovarianceStats stats;
    static Dataset road;
    static Dataset time;
    static Map<String, float[]> clean;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizer = EvalFixture.tokenizer();
        model = EvalFixture.model();
        stats = EvalFixture.stats(model, tokenizer, 1, 0.01);
        road = Datasets.read(EvalFixture.ROAD);
        time = Datasets.read(EvalFixture.TIME);
        clean = EvalFixture.snapshot(model);
    }

    @AfterAll
    static void tearDown() {
        stats.close();
        model.close();
    }

    @AfterEach
    void modelIsClean() {
        assertTrue(model.changes().isEmpty(), "no edit left on the model: " + model.changes());
        Map<String, float[]> now = EvalFixture.snapshot(model);
        for (Map.Entry<String, float[]> e : clean.entrySet()) {
            assertArrayEquals(e.getValue(), now.get(e.getKey()), e.getKey() + " bit-identical after the run");
        }
    }

    private static EvaluationRunner.Builder runner(EvalMode mode, Hyperparameters hp) {
        return EvaluationRunner.builder().mode(mode).scorer(ProbeScorer.textSpace(tokenizer, true))
                .editor(tokenizer, stats, hp);
    }

    private static EvaluationRunner.Builder refact() {
        return runner(EvalMode.REFACT, EvalFixture.hyperparameters().build());
    }

    private static List<String> lines(Path f) throws IOException {
        return Files.readAllLines(f, StandardCharsets.UTF_8);
    }

    @Test
    void jointConflict_alwaysLeavesOutARequest_soTheRetryLoopEnds() {
        assertEquals(List.of(3, 5), EvaluationRunner.leftOut(List.of(5, 1, 3), 8), "all but the first involved");
        assertEquals(List.of(4), EvaluationRunner.leftOut(List.of(4), 8), "a key singular by itself goes");
        assertEquals(List.of(2), EvaluationRunner.leftOut(List.of(2, 9, 2), 8), "protected keys are not requests");
        assertEquals(List.of(0, 1, 2), EvaluationRunner.leftOut(List.of(3, 4), 3), "only protected keys conflict");
    }

    @Test
    void run_textSpaceRefact_scoresAreTheEvaluatorsBeforeAndAfterTheEditorsEdit() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 2);
        EvaluationResult r = refact().build().run(model, road, rows);
        assertEquals(2, r.cells().size());
        assertEquals(2, r.computed());
        assertEquals(0, r.resumed());
        // the same computation by hand: reference on the clean model, score, edit, score, undo
        TextSpaceEvaluator ev = new TextSpaceEvaluator(tokenizer, true);
        Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats)
                .hyperparameters(EvalFixture.hyperparameters().build()).build();
        for (int i = 0; i < rows.size(); i++) {
            EvalCase c = rows.get(i);
            CellResult cell = r.cells().get(i);
            assertEquals(c.row(), cell.row());
            assertEquals(0, cell.seed());
            TextSpaceEvaluator.Reference ref = ev.reference(model, c.twoWayProbes());
            double[] before = ev.score(model, ref);
            EditResult e = editor.edit(model, c.toRequest());
            double[] after;
            try {
                after = ev.score(model, ref);
            } finally {
                e.undo();
            }
            assertEquals(11, cell.scores().size());
            for (int k = 0; k < 11; k++) {
                assertEquals(after[k], cell.scores().get(k).pNew(), 0.0, "after, probe " + k);
                assertEquals(before[k], cell.before().get(k).pNew(), 0.0, "before, probe " + k);
                assertEquals(c.twoWayProbes().get(k).kind(), cell.scores().get(k).kind());
            }
            assertEquals(e.steps(), cell.edit().steps());
            assertEquals(e.targetProbability(), cell.edit().targetProbability(), 0.0);
        }
        MetricsReport m = r.metrics();
        assertEquals(2, m.rows().size());
        double eff = r.cells().stream().mapToDouble(c -> c.scores().get(0).success() ? 1 : 0).average().orElseThrow();
        assertEquals(eff, m.overall().mean(Metric.EFFICACY), 1e-12);
        assertTrue(r.metricsBefore().isPresent());
    }

    @Test
    void run_baseline_equalsTheRefactRunsBeforeScores() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 2);
        EvaluationResult base = runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).build()
                .run(model, road, rows);
        EvaluationResult ref = refact().build().run(model, road, rows);
        for (int i = 0; i < 2; i++) {
            assertEquals(ref.cells().get(i).before(), base.cells().get(i).scores());
            assertTrue(base.cells().get(i).before().isEmpty());
            assertEquals(null, base.cells().get(i).edit());
        }
        assertFalse(base.metricsBefore().isPresent());
    }

    @Test
    void run_interruptedByListener_resumesWithoutRecomputingAndEqualsAnUninterruptedRun() throws IOException {
        List<EvalCase> rows = road.cases().subList(2, 6);
        EvaluationResult full = refact().build().run(model, road, rows);

        Path file = tmp.resolve("results.jsonl");
        List<Integer> firstRun = new ArrayList<>();
        RuntimeException stop = assertThrows(RuntimeException.class, () -> refact().results(file)
                .listener(new EvaluationListener() {
                    @Override
                    public void cellDone(EvalCase row, CellResult cell, EvalProgress progress) {
                        firstRun.add(cell.row());
                        if (progress.done() == 2) {
                            throw new IllegalStateException("simulated interruption");
                        }
                    }
                }).build().run(model, road, rows));
        assertEquals("simulated interruption", stop.getMessage());
        assertEquals(List.of(2, 3), firstRun);
        assertEquals(3, lines(file).size(), "header + 2 cells written before the interruption");
        assertTrue(model.changes().isEmpty(), "the interrupted run left the model clean");

        List<Integer> secondRun = new ArrayList<>();
        List<EvalProgress> started = new ArrayList<>();
        EvaluationResult resumed = refact().results(file).listener(new EvaluationListener() {
            @Override
            public void started(EvalProgress progress) {
                started.add(progress);
            }

            @Override
            public void cellDone(EvalCase row, CellResult cell, EvalProgress progress) {
                secondRun.add(cell.row());
            }
        }).build().run(model, road, rows);
        assertEquals(List.of(4, 5), secondRun, "only the missing cells are computed");
        assertEquals(2, started.get(0).resumed());
        assertEquals(4, started.get(0).total());
        assertEquals(2, resumed.resumed());
        assertEquals(2, resumed.computed());
        List<String> l = lines(file);
        assertEquals(5, l.size());
        Set<String> keys = new HashSet<>();
        for (String line : l.subList(1, l.size())) {
            var o = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
            assertTrue(keys.add(o.get("row").getAsInt() + "/" + o.get("seed").getAsInt()), "no cell twice: " + line);
        }
        assertCellsEqual(full.cells(), resumed.cells());
        assertEquals(full.metrics(), resumed.metrics());

        // a third run computes nothing and reads everything back
        EvaluationResult again = refact().results(file).build().run(model, road, rows);
        assertEquals(0, again.computed());
        assertEquals(4, again.resumed());
        assertCellsEqual(full.cells(), again.cells());
    }

    private static void assertCellsEqual(List<CellResult> expected, List<CellResult> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            CellResult a = expected.get(i);
            CellResult b = actual.get(i);
            assertEquals(a.row(), b.row());
            assertEquals(a.seed(), b.seed());
            assertEquals(a.scores(), b.scores(), "row " + a.row() + " scores");
            assertEquals(a.before(), b.before(), "row " + a.row() + " before");
            assertEquals(a.edit().steps(), b.edit().steps());
            assertEquals(a.edit().stopReason(), b.edit().stopReason());
            assertEquals(a.edit().targetProbability(), b.edit().targetProbability(), 0.0);
            assertEquals(a.edit().deltaNorm(), b.edit().deltaNorm(), 0.0);
        }
    }

    @Test
    void run_incompleteLastLine_isDroppedAndRecomputed() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 2);
        Path file = tmp.resolve("r.jsonl");
        EvaluationResult first = runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).results(file)
                .build().run(model, road, rows);
        String text = Files.readString(file);
        Files.writeString(file, text.substring(0, text.length() - 25));   // a kill in the middle of a write
        List<String> warnings = new ArrayList<>();
        EvaluationResult second = runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).results(file)
                .listener(new EvaluationListener() {
                    @Override
                    public void warning(String message) {
                        warnings.add(message);
                    }
                }).build().run(model, road, rows);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("incomplete last line"), warnings.get(0));
        assertEquals(1, second.resumed());
        assertEquals(1, second.computed());
        assertEquals(first.cells().get(1).scores(), second.cells().get(1).scores());
        assertEquals(3, lines(file).size());
    }

    @Test
    void run_differentConfiguration_refusesToResumeNamingTheDifference() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 1);
        Path file = tmp.resolve("r.jsonl");
        runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).results(file).build().run(model, road, rows);
        String before = Files.readString(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> refact().results(file).build().run(model, road, rows));
        assertTrue(e.getMessage().contains("different configuration"), e.getMessage());
        assertTrue(e.getMessage().contains("mode: baseline → refact"), e.getMessage());

        Path file2 = tmp.resolve("r2.jsonl");
        EvaluationRunner noEdit = runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).results(file2)
                .build();
        noEdit.run(model, road, rows);
        e = assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder().mode(EvalMode.BASELINE)
                .scorer(ProbeScorer.textSpace(tokenizer, false)).results(file2).build().run(model, road, rows));
        assertTrue(e.getMessage().contains("scorer.representation: projected → pooled"), e.getMessage());

        Path file3 = tmp.resolve("r3.jsonl");
        Files.writeString(file3, "{\"row\":0}\n");
        e = assertThrows(IllegalArgumentException.class, () -> noEditRunner(file3).run(model, road, rows));
        assertTrue(e.getMessage().contains("not a refact evaluation results file"), e.getMessage());
        assertEquals(before, Files.readString(file), "a refused resume leaves the file alone");
    }

    private static EvaluationRunner noEditRunner(Path file) {
        return runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).results(file).build();
    }

    @Test
    void run_changedHyperparameter_refusedByName() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 1);
        Path file = tmp.resolve("r.jsonl");
        Files.writeString(file, "");
        EvaluationRunner a = runner(EvalMode.REFACT, EvalFixture.hyperparameters().maxSteps(0).build()).results(file)
                .build();
        a.run(model, road, rows);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> runner(EvalMode.REFACT, EvalFixture.hyperparameters().maxSteps(0).learningRate(0.1).build())
                        .results(file).build().run(model, road, rows));
        assertTrue(e.getMessage().contains("hyperparameters.v_lr: 0.05 → 0.1"), e.getMessage());
    }

    @Test
    void run_editorRefusesEveryRow_failedCellsAreRecordedReportedAndNotRetried() throws IOException {
        // statistics of one short caption and no ridge: C (128×128) has rank < 10, the solve fails
        Path file = tmp.resolve("failed/results.jsonl");
        List<EvalCase> rows = road.cases().subList(0, 2);
        try (CovarianceStats singular = EvalFixture.stats(model, tokenizer, 1, 0.0, List.of("a cat"))) {
            EvaluationRunner r = EvaluationRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true))
                    .editor(tokenizer, singular, EvalFixture.hyperparameters().build()).results(file).build();
            EvaluationResult first = r.run(model, road, rows);
            assertEquals(2, first.failed().size());
            assertTrue(first.failed().get(0).error().startsWith("edit failed: "), first.failed().get(0).error());
            assertTrue(first.failed().get(0).scores().isEmpty());
            EvaluationResult again = r.run(model, road, rows);
            assertEquals(0, again.computed(), "failed cells are results too: not retried");
            assertEquals(first.failed().get(1).error(), again.failed().get(1).error());
        }
    }

    @Test
    void run_corruptMiddleLine_failsNamingFileAndLine() throws IOException {
        Path file = tmp.resolve("r.jsonl");
        noEditRunner(file).run(model, road, road.cases().subList(0, 2));
        List<String> l = new ArrayList<>(lines(file));
        l.set(1, "{\"row\": oops");
        Files.write(file, l);
        IOException e = assertThrows(IOException.class, () -> noEditRunner(file).run(model, road,
                road.cases().subList(0, 2)));
        assertTrue(e.getMessage().contains(file + ":2"), e.getMessage());
    }

    @Test
    void run_oracleOnRoadValidation_skipsAndReportsEveryRow() throws IOException {
        List<SkippedRow> told = new ArrayList<>();
        EvaluationResult r = runner(EvalMode.ORACLE, EvalFixture.hyperparameters().build())
                .listener(new EvaluationListener() {
                    @Override
                    public void skipped(SkippedRow row) {
                        told.add(row);
                    }
                }).build().run(model, road);
        assertEquals(10, r.skipped().size());
        assertEquals(r.skipped(), told);
        assertTrue(r.cells().isEmpty());
        assertTrue(r.skipped().get(0).reason().contains("Positive_oracle"), r.skipped().get(0).reason());
    }

    @Test
    void run_oracleOnTime_scoresTheOraclePromptsOnTheCleanModel() throws IOException {
        // TIME's oracle prompts are the new texts themselves, so the clean model's embedding of the prompt IS the
        // "new" class embedding (cos = 1): efficacy and generalisation are 100 % by construction.
        EvaluationResult r = runner(EvalMode.ORACLE, EvalFixture.hyperparameters().build()).build()
                .run(model, time, time.cases().subList(0, 3));
        assertTrue(r.skipped().isEmpty());
        assertEquals(1.0, r.metrics().overall().mean(Metric.EFFICACY));
        assertEquals(1.0, r.metrics().overall().mean(Metric.GENERALISATION));
        EvaluationResult base = runner(EvalMode.BASELINE, EvalFixture.hyperparameters().build()).build()
                .run(model, time, time.cases().subList(0, 3));
        for (int i = 0; i < 3; i++) {
            for (int k = 6; k < 11; k++) {
                // same prompt, same model; batch-mates differ (other prompts, other padding), so the float32
                // embedding may differ in the last bits
                assertEquals(base.cells().get(i).scores().get(k).pNew(), r.cells().get(i).scores().get(k).pNew(), 1e-6,
                        "negatives keep their own prompts");
            }
        }
    }

    @Test
    void runSequential_editsAccumulateAndTheCurveIsWritten() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 3);
        List<SequentialPoint> told = new ArrayList<>();
        SequentialResult r = refact().listener(new EvaluationListener() {
            @Override
            public void sequentialPoint(SequentialPoint point, EvalProgress progress) {
                told.add(point);
                assertEquals(point.edits(), model.changes().size(), "edits stay on the model between points");
            }
        }).build().runSequential(model, road, rows, 2);
        assertEquals(told, r.points());
        assertEquals(2, r.points().size());
        assertEquals(2, r.points().get(0).edits());
        assertEquals(3, r.points().get(1).edits());
        assertEquals(3, r.points().get(1).rowsEdited());
        assertEquals(3, r.points().get(1).metrics().rows().size());
        assertEquals(3, r.edits().size());
        // the written curve (sequential.md/.csv/.png) is tested in refact-report's EvaluationReportTest
    }

    @Test
    void builder_invalidSettings_failClearly() {
        assertThrows(IllegalStateException.class, () -> EvaluationRunner.builder().build());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> EvaluationRunner.builder()
                .scorer(ProbeScorer.textSpace(tokenizer, true)).build());
        assertTrue(e.getMessage().contains("editor("), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> EvaluationRunner.builder().mode(EvalMode.BASELINE)
                .scorer(ProbeScorer.textSpace(tokenizer, true)).seeds(List.of(0, 1)).build());
        assertTrue(e.getMessage().contains("no seeds"), e.getMessage());
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder()
                .editor(tokenizer, stats, Hyperparameters.roleEdits()));
        assertTrue(a.getMessage().contains("layer 1") && a.getMessage().contains("layer 7"), a.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder().seeds(List.of(1, 1)));
        assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder().seeds(List.of(-1)));
        assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder().mode(EvalMode.BASELINE)
                .scorer(ProbeScorer.textSpace(tokenizer, true)).build().run(model, road, List.of()));
        assertThrows(IllegalArgumentException.class, () -> EvaluationRunner.builder().mode(EvalMode.BASELINE)
                .scorer(ProbeScorer.textSpace(tokenizer, true)).build().run(model, road, time.cases().subList(0, 1)));
        assertThrows(IllegalArgumentException.class, () -> refact().build().runSequential(model, road,
                road.cases(), 0));
    }
}
