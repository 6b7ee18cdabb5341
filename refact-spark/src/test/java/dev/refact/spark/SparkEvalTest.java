package dev.refact.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.cli.RefactCommand;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refact-spark} in {@code local[2]} against {@code refact} on one machine, on the tiny fixture: the same
 * cells, per-cell probabilities, summary metrics and report files; a deterministic failure recorded as a failed
 * cell.
 */
final class SparkEvalTest {
    static final String MODEL = SharedData.resolve("models/tiny-random-clip-text").toString();
    static final String TOKENIZER = SharedData.resolve("clip-tokenizer").toString();
    static final String ROAD = SharedData.resolve("refact/road/RoAD_validation.csv").toString();
    static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false"};

    @TempDir
    Path tmp;

    @TempDir
    static Path statsDir;

    /** Statistics of layers 1 and 2 of the tiny model over the TIME test prompts. */
    @BeforeAll
    static void stats() throws IOException {
        writeStats(statsDir);
    }

    static void writeStats(Path dir) throws IOException {
        List<String> lines = Files.readAllLines(SharedData.resolve("refact/time/TIMED_test_set.csv"),
                StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            for (String field : line.split(",")) {
                texts.add(field.replace("\"", ""));
            }
        }
        try (ClipTextModel m = ClipTextModel.load(Path.of(MODEL))) {
            ClipTokenizer tok = ClipTokenizer.load(Path.of(TOKENIZER));
            for (int layer = 1; layer <= 2; layer++) {
                try (CovarianceStats s = CovarianceStats.compute(m, tok, layer, texts,
                        StatsOptions.builder().sampleLimit(600).corpusName("time-test-fields").build(), null)) {
                    s.save(dir.resolve("L" + layer + ".safetensors"));
                }
            }
        }
    }

    @Test
    void evalText_local2_equalsSingleMachine_cellsProbabilitiesMetricsReports() throws IOException {
        Path one = tmp.resolve("one");
        Path spark = tmp.resolve("spark");
        List<String> common = List.of("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layer", "1", "--stats", statsDir.resolve("L1.safetensors").toString(), "--steps", "5",
                "--num-contrastive", "2", "--rows", "0..4");
        String[] a = refact(with(common, "--out", one.toString()));
        assertEquals("0", a[0], a[2]);
        String[] b = refactSpark(with(common, "--out", spark.toString()));
        assertEquals("0", b[0], b[2]);
        assertTrue(b[2].contains("ETA"), b[2]);   // the runner's progress lines
        assertTrue(b[2].contains("refact: spark: 5/5 cells of this job done") && b[2].contains("cells/min"), b[2]);

        assertSameResults(one.resolve("results.jsonl"), spark.resolve("results.jsonl"), 5);
        assertEquals(summary(a[1], one), summary(b[1], spark));
        assertEquals(Files.readString(one.resolve("metrics.csv")), Files.readString(spark.resolve("metrics.csv")));
        assertEquals(report(one), report(spark));
    }

    @Test
    void evalText_withoutStats_driverComputesOnce_shipsToExecutors_sameResultsAsSingleMachine() throws IOException {
        String previous = System.getProperty("refact.cache");
        System.setProperty("refact.cache", tmp.resolve("cache").toString());
        try {
            Path one = tmp.resolve("one");
            Path spark = tmp.resolve("spark");
            List<String> common = List.of("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                    "--layer", "1", "--steps", "5", "--num-contrastive", "2", "--rows", "0..2");
            String[] a = refact(with(common, "--out", one.toString()));
            assertEquals("0", a[0], a[2]);
            try (var files = Files.list(tmp.resolve("cache/stats"))) {
                assertEquals(1, files.filter(f -> f.toString().endsWith(".safetensors")).count());
            }
            String[] b = refactSpark(with(common, "--out", spark.toString()));
            assertEquals("0", b[0], b[2]);
            String shipped = "refact: spark: statistics of layer 1 shipped to the executors: "
                    + tmp.resolve("cache/stats");
            assertTrue(b[2].contains(shipped), b[2]);
            String after = b[2].substring(b[2].indexOf(shipped) + shipped.length());
            assertTrue(!after.contains("statistics"), "executors read the shipped copy, not a cache: " + b[2]);
            assertTrue(!b[2].contains("computing covariance statistics"), b[2]);
            assertTrue(!b[2].contains("edit failed"), b[2]);
            assertSameResults(one.resolve("results.jsonl"), spark.resolve("results.jsonl"), 3);
        } finally {
            if (previous == null) {
                System.clearProperty("refact.cache");
            } else {
                System.setProperty("refact.cache", previous);
            }
        }
    }

    @Test
    void evalText_statisticsOfAnotherModel_refusedUnlessAllowed_alsoOnExecutors() throws IOException {
        // the same statistics with the model fingerprints in their provenance zeroed: "computed on another model"
        Path foreign = tmp.resolve("foreign.safetensors");
        try (dev.refact.clip.io.SafetensorsFile sf = dev.refact.clip.io.SafetensorsFile.open(
                statsDir.resolve("L1.safetensors"))) {
            dev.refact.clip.io.SafetensorsWriter w = new dev.refact.clip.io.SafetensorsWriter();
            for (Map.Entry<String, String> e : sf.metadata().entrySet()) {
                w.metadata(e.getKey(), e.getValue().replaceAll("[0-9a-f]{64}", "0".repeat(64)));
            }
            for (String n : sf.names()) {
                w.addFloats(n, sf.readFloats(n), sf.info(n).shape());
            }
            w.write(foreign);
        }
        List<String> common = List.of("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layer", "1", "--stats", foreign.toString(), "--steps", "5", "--num-contrastive", "2",
                "--rows", "0..1");
        String[] refused = refactSpark(with(common, "--out", tmp.resolve("refused").toString()));
        assertEquals("1", refused[0], refused[2]);
        assertTrue(refused[2].contains("another model") && refused[2].contains("--allow-foreign-stats"), refused[2]);
        // allowed: the executors load the same file and must accept it too (they used to refuse every cell)
        String[] allowed = refactSpark(with(common, "--out", tmp.resolve("allowed").toString(),
                "--allow-foreign-stats"));
        assertEquals("0", allowed[0], allowed[2]);
        assertTrue(allowed[2].contains("refact: spark: 2/2 cells of this job done"), allowed[2]);
        assertEquals(2, cells(Files.readAllLines(tmp.resolve("allowed").resolve("results.jsonl"))).size());
    }

    @Test
    void sweep_local2_equalsSingleMachine() throws IOException {
        Path one = tmp.resolve("one");
        Path spark = tmp.resolve("spark");
        List<String> common = List.of("sweep", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layers", "1,2", "--n", "0,2", "--stats", statsDir.resolve("L{layer}.safetensors").toString(),
                "--steps", "3", "--rows", "0..2");
        String[] a = refact(with(common, "--out", one.toString()));
        assertEquals("0", a[0], a[2]);
        String[] b = refactSpark(with(common, "--out", spark.toString()));
        assertEquals("0", b[0], b[2]);
        List<Path> points = Files.list(one.resolve("points")).sorted().toList();
        assertEquals(4, points.size());
        for (Path p : points) {
            assertSameResults(p, spark.resolve("points").resolve(p.getFileName()), 3);
        }
        assertEquals(summary(a[1], one), summary(b[1], spark));
        assertEquals(withoutColumn(one.resolve("sweep.csv"), "mean_edit_ms"),
                withoutColumn(spark.resolve("sweep.csv"), "mean_edit_ms"));
        assertEquals(withoutTableColumn(one.resolve("sweep.md"), "s/edit"),
                withoutTableColumn(spark.resolve("sweep.md"), "s/edit"));
    }

    @Test
    void launcher_refusesOtherCommandsAndBadOptions_withUsageExit() {
        String[] r = SparkEvalTest.spark("tokenize", "--tokenizer", TOKENIZER, "a cat");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("refact: refact-spark runs eval-text, eval and sweep, not tokenize"), r[2]);
        r = SparkEvalTest.spark("eval-text", "--master", "local[two]", "--model", MODEL);
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--master local[two]: expected"), r[2]);
        r = SparkEvalTest.spark("eval-text", "--conf", "spark.ui.enabled", "--model", MODEL);
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("expected KEY=VALUE"), r[2]);
        r = SparkEvalTest.spark("eval-text", "--master", "local[2]", "--model", MODEL, "--dataset", ROAD,
                "--sequential");
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--sequential edits one model row after row"), r[2]);
        r = SparkEvalTest.spark("--help");
        assertEquals("0", r[0]);
        assertTrue(r[1].contains("--master URL"), r[1]);
    }

    /** The same header configuration and, per (row, seed), the same line apart from timings. */
    static void assertSameResults(Path expected, Path actual, int cells) throws IOException {
        List<String> x = Files.readAllLines(expected);
        List<String> y = Files.readAllLines(actual);
        assertEquals(cells + 1, x.size(), expected.toString());
        assertEquals(cells + 1, y.size(), actual.toString());
        JsonObject hx = JsonParser.parseString(x.get(0)).getAsJsonObject();
        JsonObject hy = JsonParser.parseString(y.get(0)).getAsJsonObject();
        assertEquals(hx.get("config"), hy.get("config"));
        assertEquals(cells(x), cells(y));
    }

    /** Cell lines by "row/seed", with the wall-time fields removed. */
    static Map<String, String> cells(List<String> lines) {
        Map<String, String> out = new TreeMap<>();
        for (String line : lines.subList(1, lines.size())) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            o.remove("ms");
            if (o.has("edit")) {
                o.getAsJsonObject("edit").remove("ms");
            }
            out.put(o.get("row").getAsInt() + "/" + o.get("seed").getAsInt(), o.toString());
        }
        return out;
    }

    /** The printed summary with the output folder replaced. */
    static String summary(String stdout, Path dir) {
        return stdout.strip().replace(dir.toString(), "OUT");
    }

    static String report(Path dir) throws IOException {
        return maskTimes(Files.readString(dir.resolve("report.md")).replace(dir.toString(), "OUT"));
    }

    /** A CSV file's lines without one (wall-time) column. */
    static List<String> withoutColumn(Path csv, String name) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        int k = List.of(lines.get(0).split(",", -1)).indexOf(name);
        assertTrue(k >= 0, name + " in " + lines.get(0));
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            List<String> f = new ArrayList<>(List.of(line.split(",", -1)));
            f.remove(k);
            out.add(String.join(",", f));
        }
        return out;
    }

    /** A markdown file's lines with one (wall-time) column of its tables emptied. */
    static List<String> withoutTableColumn(Path md, String name) throws IOException {
        List<String> out = new ArrayList<>();
        int k = -1;
        for (String line : Files.readAllLines(md)) {
            if (line.startsWith("|")) {
                List<String> cells = new ArrayList<>(List.of(line.split("\\|", -1)));
                int h = cells.stream().map(String::strip).toList().indexOf(name);
                k = h >= 0 ? h : k;
                if (k >= 0 && k < cells.size()) {
                    cells.set(k, "");
                }
                line = String.join("|", cells);
            }
            out.add(line);
        }
        assertTrue(k >= 0, name + " column in " + md);
        return out;
    }

    /** Timings (ms, seconds) are the only nondeterministic numbers in reports. */
    static String maskTimes(String s) {
        return s.replaceAll("[0-9.]+ ?(ms|s)\\b", "T");
    }

    static String[] with(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static String[] refact(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    static String[] refactSpark(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(SPARK));
        return spark(all.toArray(String[]::new));
    }

    /** {@link RefactSpark#execute} with exactly these arguments: exit code, stdout, stderr. */
    static String[] spark(String... all) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactSpark.execute(all, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }
}
