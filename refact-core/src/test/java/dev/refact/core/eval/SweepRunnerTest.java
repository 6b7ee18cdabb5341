package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.Hyperparameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweeps on the tiny fixture: one evaluation per setting, one table, statistics per layer. */
final class SweepRunnerTest {
    static ClipTokenizer tokenizer;
    static ClipTextModel model;
    static Dataset road;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizer = EvalFixture.tokenizer();
        model = EvalFixture.model();
        road = Datasets.read(EvalFixture.ROAD);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    @Test
    void concurrentSettings_listenerCalledOneAtATime() throws Exception {
        java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        EvaluationListener slow = new EvaluationListener() {
            @Override
            public void warning(String message) {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                calls.incrementAndGet();
                Thread.onSpinWait();
                inside.decrementAndGet();
            }
        };
        EvaluationListener serial = new SweepRunner.SerialListener(slow);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<?>> f = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                f.add(pool.submit(() -> {
                    for (int k = 0; k < 20_000; k++) {
                        serial.warning("w");
                    }
                }));
            }
            for (java.util.concurrent.Future<?> x : f) {
                x.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(80_000, calls.get());
        assertEquals(0, overlaps.get(), "calls overlapped");
    }

    @Test
    void builder_badSeeds_refusedBeforeAnySettingRuns() {
        SweepRunner.Builder b = SweepRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true))
                .tokenizer(tokenizer).base(EvalFixture.hyperparameters().build()).layers(List.of(1))
                .statistics(layer -> {
                    throw new AssertionError("no setting may run");
                });
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> b.seeds(List.of(0, -1)));
        assertTrue(negative.getMessage().contains("-1"), negative.getMessage());
        IllegalStateException unseeded = assertThrows(IllegalStateException.class, () -> b.seeds(List.of(3)).build());
        assertTrue(unseeded.getMessage().contains("no seeds"), unseeded.getMessage());
    }

    @Test
    void run_layersAndN_oneResumableFilePerSettingAndOneTable() throws IOException {
        List<Integer> statsAsked = new ArrayList<>();
        List<EvalCase> rows = road.cases().subList(0, 2);
        SweepRunner sweep = SweepRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true)).tokenizer(tokenizer)
                .base(EvalFixture.hyperparameters().build()).layers(List.of(1, 2)).numContrastive(List.of(0, 2))
                .statistics(layer -> {
                    statsAsked.add(layer);
                    return EvalFixture.stats(model, tokenizer, layer, 0.01);
                }).directory(tmp).build();
        assertEquals(4, sweep.size());
        SweepResult r = sweep.run(model, road, rows);
        assertEquals(List.of(1, 2), statsAsked, "statistics are asked once per layer, in order");
        assertEquals(4, r.points().size());
        assertEquals(List.of(1, 1, 2, 2), r.points().stream().map(SweepPoint::layer).toList());
        assertEquals(List.of(0, 2, 0, 2), r.points().stream().map(SweepPoint::numContrastive).toList());
        for (SweepPoint p : r.points()) {
            assertEquals(p.layer(), p.result().setup().hyperparameters().layer());
            assertEquals(p.numContrastive(), p.result().setup().hyperparameters().numContrastive());
            assertEquals(2, p.result().cells().size());
            assertTrue(Files.exists(tmp.resolve("points").resolve(SweepRunner.fileName(
                    p.result().setup().hyperparameters()))));
        }
        assertTrue(model.changes().isEmpty());

        // the sweep table (sweep.md/.csv) is tested in refact-report's EvaluationReportTest

        // rerun: everything is read back from the per-setting files
        SweepResult again = SweepRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true)).tokenizer(tokenizer)
                .base(EvalFixture.hyperparameters().build()).layers(List.of(1, 2)).numContrastive(List.of(0, 2))
                .statistics(layer -> EvalFixture.stats(model, tokenizer, layer, 0.01)).directory(tmp).build()
                .run(model, road, rows);
        for (int i = 0; i < 4; i++) {
            assertEquals(0, again.points().get(i).result().computed());
            assertEquals(r.points().get(i).result().metrics(), again.points().get(i).result().metrics());
        }
    }

    @Test
    void run_nLargerThanThePool_failsBeforeAnyEdit() {
        SweepRunner sweep = SweepRunner.builder().scorer(ProbeScorer.textSpace(tokenizer, true)).tokenizer(tokenizer)
                .base(EvalFixture.hyperparameters().build()).numContrastive(List.of(0, 1000))
                .statistics(layer -> {
                    throw new AssertionError("no statistics needed before validation");
                }).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sweep.run(model, road, road.cases().subList(0, 1)));
        assertTrue(e.getMessage().contains("N 1000") && e.getMessage().contains("contrastive pool"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SweepRunner.builder().layers(List.of()));
        assertThrows(IllegalArgumentException.class, () -> SweepRunner.builder().learningRates(List.of(0.0)));
        assertThrows(IllegalStateException.class, () -> SweepRunner.builder().build());
        assertThrows(IllegalArgumentException.class, () -> SweepRunner.builder()
                .scorer(ProbeScorer.textSpace(tokenizer, true)).tokenizer(tokenizer)
                .base(Hyperparameters.roleEdits()).statistics(l -> null).build().run(model, road, road.cases()));
    }
}
