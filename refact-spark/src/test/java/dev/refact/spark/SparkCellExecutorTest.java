package dev.refact.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.cli.CellRecipe;
import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.CellSpec;
import dev.refact.core.eval.EvalMode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SparkCellExecutor} on {@code local[2,3]} (two threads, a task tried up to 3 times) with recipes that fail
 * on purpose: a task that fails once is retried and its cell comes back; a task that always fails ends the job
 * with a one-line error after the other cells were handed over; a cell whose computation fails on every attempt
 * comes back as a failed cell; every cell is handed over exactly once; statistics not given as a file are prepared
 * once on the driver and read by the tasks from Spark's copies.
 */
final class SparkCellExecutorTest {
    /** Attempts per (test, row), shared by the task threads of this JVM. */
    static final Map<String, AtomicInteger> ATTEMPTS = new ConcurrentHashMap<>();
    static SparkContext context;

    @BeforeAll
    static void start() {
        context = new SparkContext(new SparkConf().setMaster("local[2,3]").setAppName("SparkCellExecutorTest")
                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stop() {
        context.stop();
    }

    /**
     * Fails the first {@code failures} attempts of row {@code badRow}: as a missing file would (resources), or
     * while computing the cell.
     */
    record Flaky(String test, int badRow, int failures, boolean resources) implements CellRecipe {
        @Override
        public CellResult compute(CellSpec cell) throws IOException {
            int attempt = ATTEMPTS.computeIfAbsent(test + "/" + cell.row(), k -> new AtomicInteger()).incrementAndGet();
            if (cell.row() == badRow && attempt <= failures) {
                if (!resources) {
                    throw new IllegalStateException("scoring blew up (attempt " + attempt + ")");
                }
                throw new IOException("no such file on this worker (attempt " + attempt + ")");
            }
            return new CellResult(cell.row(), cell.seed(), List.of(), List.of(), null, "ok " + attempt, cell.row());
        }

        @Override
        public String device() {
            return "cpu";
        }

        @Override
        public CellRecipe withDevice(String device) {
            return this;
        }
    }

    /** Files the driver ships per test, and what the executors were handed. */
    static final Map<String, List<String>> SEEN = new ConcurrentHashMap<>();
    static final AtomicInteger PREPARED = new AtomicInteger();

    /**
     * Ships {@code source} as the statistics of every requested layer; on an executor, reports the file it was
     * handed (its content must be the source's).
     */
    record Shipping(String test, String source, Map<Integer, String> files) implements CellRecipe {
        @Override
        public Map<Integer, Path> statisticsToShip(Set<Integer> layers, PrintWriter log) {
            PREPARED.incrementAndGet();
            SEEN.computeIfAbsent(test + "/layers", k -> new ArrayList<>()).add(new TreeSet<>(layers).toString());
            Map<Integer, Path> out = new TreeMap<>();
            for (int layer : layers) {
                out.put(layer, Path.of(source + layer));
            }
            return out;
        }

        @Override
        public CellRecipe withStatisticsFiles(Map<Integer, Path> local) {
            Map<Integer, String> named = new TreeMap<>();
            local.forEach((k, v) -> named.put(k, v.toString()));
            return new Shipping(test, source, named);
        }

        @Override
        public CellResult compute(CellSpec cell) throws IOException {
            int layer = cell.settings().layer();
            Path file = Path.of(files.get(layer));
            String content = Files.readString(file);
            return new CellResult(cell.row(), cell.seed(), List.of(), List.of(), null, layer + " " + file + " "
                    + content, cell.row());
        }

        @Override
        public String device() {
            return "cpu";
        }

        @Override
        public CellRecipe withDevice(String device) {
            return this;
        }
    }

    @Test
    void statisticsWithoutStatsFile_computedOnceOnDriver_andEveryExecutorReadsItsLocalCopy(@TempDir Path tmp)
            throws IOException {
        Files.writeString(tmp.resolve("stats-L1"), "statistics of layer 1");
        Files.writeString(tmp.resolve("stats-L2"), "statistics of layer 2");
        List<CellSpec> cells = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String hp = Hyperparameters.roleEdits().toBuilder().layer(1 + i % 2).build().toJson();
            cells.add(new CellSpec(EvalMode.REFACT, hp, i, 0));
        }
        cells.add(new CellSpec(EvalMode.BASELINE, null, 6, 0));
        int before = PREPARED.get();
        List<CellResult> got = new ArrayList<>();
        new SparkCellExecutor(context, new Shipping("ship", tmp.resolve("stats-L").toString(), Map.of()))
                .execute(cells, (spec, r) -> got.add(r));
        assertEquals(1, PREPARED.get() - before, "the driver prepares the statistics once per job");
        assertEquals(List.of("[1, 2]"), SEEN.get("ship/layers"));
        assertEquals(7, got.size());
        String root = SparkFiles.getRootDirectory();
        for (CellResult r : got) {
            if (r.row() == 6) {
                continue;
            }
            String[] f = r.error().split(" ", 3);
            int layer = 1 + r.row() % 2;
            assertEquals(Integer.toString(layer), f[0]);
            assertTrue(Path.of(f[1]).startsWith(Path.of(root)) && !Path.of(f[1]).startsWith(tmp),
                    "the executor reads the copy Spark made, not the driver's file: " + f[1]);
            assertEquals("statistics of layer " + layer, f[2]);
        }
        // A second job in the same context ships the same files without adding them again (Spark would refuse).
        got.clear();
        new SparkCellExecutor(context, new Shipping("ship2", tmp.resolve("stats-L").toString(), Map.of()))
                .execute(cells.subList(0, 2), (spec, r) -> got.add(r));
        assertEquals(2, got.size());
        assertTrue(got.get(0).error().endsWith("statistics of layer " + (1 + got.get(0).row() % 2)), got.toString());
    }

    private static List<CellSpec> cells(int n) {
        List<CellSpec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new CellSpec(EvalMode.BASELINE, null, i, 0));
        }
        return out;
    }

    @Test
    void failedTask_isRetried_andEveryCellArrivesOnce() throws IOException {
        List<CellResult> got = new ArrayList<>();
        Thread caller = Thread.currentThread();
        new SparkCellExecutor(context, new Flaky("retry", 2, 1, true)).execute(cells(5), (spec, r) -> {
            assertEquals(caller, Thread.currentThread(), "sink on the calling thread");
            assertEquals(spec.row(), r.row());
            got.add(r);
        });
        assertEquals(5, got.size());
        assertEquals(List.of(0, 1, 2, 3, 4), got.stream().map(CellResult::row).sorted().toList());
        assertEquals("ok 2", got.stream().filter(r -> r.row() == 2).findFirst().orElseThrow().error());
    }

    @Test
    void cellFailingEveryAttempt_isAFailedCell_jobGoesOn_whileATransientOneIsRetried() throws IOException {
        List<CellResult> got = new ArrayList<>();
        new SparkCellExecutor(context, new Flaky("cell", 1, 99, false)).execute(cells(3), (spec, r) -> got.add(r));
        assertEquals(3, got.size());
        CellResult failed = got.stream().filter(r -> r.row() == 1).findFirst().orElseThrow();
        assertEquals("cell failed on all 3 attempts: scoring blew up (attempt 3)", failed.error());
        got.clear();
        new SparkCellExecutor(context, new Flaky("transient", 1, 1, false)).execute(cells(3), (spec, r) -> got.add(r));
        assertEquals("ok 2", got.stream().filter(r -> r.row() == 1).findFirst().orElseThrow().error());
    }

    @Test
    void taskFailingEveryAttempt_failsTheJob_afterTheOtherCells() {
        List<Integer> got = new ArrayList<>();
        IOException e = assertThrows(IOException.class, () -> new SparkCellExecutor(context,
                new Flaky("fatal", 0, 99, true)).execute(cells(3), (spec, r) -> got.add(r.row())));
        assertTrue(e.getMessage().startsWith("Spark job failed: ") && e.getMessage().contains("no such file"),
                e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(3, ATTEMPTS.get("fatal/0").get(), "local[2,3] tries a task 3 times");
        assertTrue(!got.contains(0), got.toString());
    }
}
