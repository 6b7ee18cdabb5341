package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link EvaluationRunner.Builder#executor}: cells computed elsewhere (here: by {@link EvaluationRunner#evaluateCell}
 * on a second model copy, handed back in reverse order) give the results file, resume and result of the runner's
 * own loop; the executor's mistakes are refused.
 */
final class CellExecutorTest {
    static ClipTokenizer tokenizer;
    static ClipTextModel model;
    static ClipTextModel copy;
    static CovarianceStats stats;
    static Dataset road;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizer = EvalFixture.tokenizer();
        model = EvalFixture.model();
        copy = EvalFixture.model();
        stats = EvalFixture.stats(model, tokenizer, 1, 0.01);
        road = Datasets.read(EvalFixture.ROAD);
    }

    @AfterAll
    static void tearDown() {
        stats.close();
        copy.close();
        model.close();
    }

    private static EvaluationRunner.Builder runner() {
        return EvaluationRunner.builder().mode(EvalMode.REFACT).scorer(ProbeScorer.textSpace(tokenizer, true))
                .editor(tokenizer, stats, EvalFixture.hyperparameters().build());
    }

    /** Computes the specs on {@code copy} with a runner rebuilt from the spec, newest first. */
    private static CellExecutor elsewhere(List<CellSpec> seen) {
        return (cells, sink) -> {
            seen.addAll(cells);
            List<CellSpec> reversed = new ArrayList<>(cells);
            Collections.reverse(reversed);
            for (CellSpec c : reversed) {
                Hyperparameters hp = c.settings();
                EvaluationRunner r = EvaluationRunner.builder().mode(c.mode())
                        .scorer(ProbeScorer.textSpace(tokenizer, true)).editor(tokenizer, stats, hp).build();
                sink.accept(c, r.evaluateCell(copy, road.cases().get(c.row()), c.seed()));
            }
        };
    }

    private static List<String> withoutTimes(Path file) throws IOException {
        return Files.readAllLines(file).stream().skip(1)
                .map(l -> l.replaceAll("\"ms\":[-0-9.eE]+", "\"ms\":0")).sorted().toList();
    }

    @Test
    void executor_givesTheOwnLoopsCells_andResumes() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 3);
        Path own = tmp.resolve("own.jsonl");
        Path far = tmp.resolve("far.jsonl");
        EvaluationResult a = runner().results(own).build().run(model, road, rows);
        List<CellSpec> seen = new ArrayList<>();
        EvaluationResult b = runner().results(far).executor(elsewhere(seen)).build()
                .run(model, road, road.cases().subList(0, 2));
        assertEquals(2, seen.size());
        assertEquals(0, seen.get(0).row());
        assertEquals(EvalFixture.hyperparameters().build().toJson(), seen.get(0).hyperparameters());
        assertEquals(2, b.computed());

        seen.clear();
        b = runner().results(far).executor(elsewhere(seen)).build().run(model, road, rows);
        assertEquals(List.of(2), seen.stream().map(CellSpec::row).toList(), "only the pending cell is sent");
        assertEquals(2, b.resumed());
        assertEquals(withoutTimes(own), withoutTimes(far));
        assertEquals(a.metrics().overall(), b.metrics().overall());
        assertTrue(model.changes().isEmpty() && copy.changes().isEmpty());
    }

    @Test
    void sweep_withExecutor_runsSettingsAtOnce_andEqualsTheOwnLoop() throws IOException {
        List<EvalCase> rows = road.cases().subList(0, 2);
        SweepResult own = sweep(tmp.resolve("own"), null).run(model, road, rows);
        List<CellSpec> seen = Collections.synchronizedList(new ArrayList<>());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        CellExecutor serial = (cells, sink) -> {
            threads.add(Thread.currentThread().getName());
            synchronized (copy) {   // one model copy: one cell at a time
                elsewhere(seen).execute(cells, sink);
            }
        };
        SweepResult far = sweep(tmp.resolve("far"), serial).run(model, road, rows);
        assertEquals(6, seen.size());
        assertEquals(3, threads.size(), "one driver thread per setting: " + threads);
        assertEquals(List.of(0, 1, 2), far.points().stream().map(SweepPoint::numContrastive).toList());
        for (int i = 0; i < 3; i++) {
            assertEquals(own.points().get(i).result().metrics().overall(),
                    far.points().get(i).result().metrics().overall());
            String name = SweepRunner.fileName(own.points().get(i).result().setup().hyperparameters());
            assertEquals(withoutTimes(tmp.resolve("own/points").resolve(name)),
                    withoutTimes(tmp.resolve("far/points").resolve(name)));
        }
        assertTrue(model.changes().isEmpty() && copy.changes().isEmpty());
    }

    private static SweepRunner sweep(Path dir, CellExecutor executor) {
        SweepRunner.Builder b = SweepRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true))
                .tokenizer(tokenizer).base(EvalFixture.hyperparameters().build()).numContrastive(List.of(0, 1, 2))
                .statistics(layer -> EvalFixture.stats(model, tokenizer, layer, 0.01)).directory(dir);
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    @Test
    void executor_thatReturnsTheWrongCellOrTooFew_isRefused() {
        CellExecutor wrong = (cells, sink) -> sink.accept(cells.get(0),
                new CellResult(cells.get(0).row() + 1, 0, List.of(), List.of(), null, "x", 0));
        assertThrows(IllegalStateException.class,
                () -> runner().executor(wrong).build().run(model, road, road.cases().subList(0, 1)));
        CellExecutor none = (cells, sink) -> { };
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> runner().executor(none).build().run(model, road, road.cases().subList(0, 2)));
        assertTrue(e.getMessage().contains("2 of 2 cells missing"), e.getMessage());
    }

    @Test
    void cellSpec_validates() {
        assertThrows(IllegalArgumentException.class, () -> new CellSpec(EvalMode.REFACT, null, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CellSpec(EvalMode.BASELINE, "{}", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CellSpec(EvalMode.BASELINE, null, -1, 0));
        assertNull(new CellSpec(EvalMode.BASELINE, null, 0, 0).settings());
    }
}
