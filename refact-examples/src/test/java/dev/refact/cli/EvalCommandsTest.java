package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code refact eval-text}, {@code eval} and {@code sweep} on the tiny fixture: files, resume, clear errors. */
final class EvalCommandsTest {
    static final String MODEL = SharedData.resolve("models/tiny-random-clip-text").toString();
    static final String TOKENIZER = SharedData.resolve("clip-tokenizer").toString();
    static final String ROAD = SharedData.resolve("refact/road/RoAD_validation.csv").toString();
    static final String TIME = SharedData.resolve("refact/time/TIMED_validation_set.csv").toString();

    @TempDir
    Path tmp;

    @TempDir
    static Path statsDir;

    /** Statistics of layers 1 and 2 of the tiny model over the TIME test prompts (refact stats' library call). */
    @BeforeAll
    static void stats() throws IOException {
        writeStats(statsDir, 1, 2);
    }

    /** Writes {@code dir/L<layer>.safetensors}: the tiny model's statistics over the TIME test prompts' fields. */
    static void writeStats(Path dir, int... layers) throws IOException {
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
            for (int layer : layers) {
                try (CovarianceStats s = CovarianceStats.compute(m, tok, layer, texts,
                        StatsOptions.builder().sampleLimit(600).corpusName("time-test-fields").build(), null)) {
                    s.save(dir.resolve("L" + layer + ".safetensors"));
                }
            }
        }
    }

    static String stats(int layer) {
        return statsDir.resolve("L" + layer + ".safetensors").toString();
    }

    @Test
    void evalText_refact_writesReportResumesAndRefusesAnotherConfiguration() throws IOException {
        Path out = tmp.resolve("refact");
        String[] args = {"eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD, "--layer", "1",
            "--stats", stats(1), "--steps", "3", "--num-contrastive", "2", "--rows", "0..2", "--out", out.toString()};
        String[] r = run(args);
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(3, o.get("computed").getAsInt());
        assertEquals("refact", o.get("mode").getAsString());
        assertTrue(o.has("after") && o.has("before"), r[1]);
        assertTrue(r[2].contains("ETA"), r[2]);
        List<String> results = Files.readAllLines(out.resolve("results.jsonl"));
        assertEquals(4, results.size());
        JsonObject header = JsonParser.parseString(results.get(0)).getAsJsonObject();
        assertEquals(1, header.getAsJsonObject("config").getAsJsonObject("hyperparameters").get("layer").getAsInt());
        assertTrue(header.getAsJsonObject("config").get("statistics").getAsString().contains("time-test-fields"));
        assertTrue(JsonParser.parseString(results.get(1)).getAsJsonObject().getAsJsonObject("edit")
                .get("steps").getAsInt() <= 3);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("ours: after the edit") && md.contains("ours: before the edit"), md);
        assertTrue(md.contains("layer 1, N 2 contrastive"), md);

        r = run(args);
        assertEquals("0", r[0], r[2]);
        o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(0, o.get("computed").getAsInt());
        assertEquals(3, o.get("resumed").getAsInt());

        String[] other = args.clone();
        other[other.length - 5] = "1";   // --num-contrastive 1
        r = run(other);
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("hyperparameters.num_contrastive: 2 → 1"), r[2]);
    }

    @Test
    void evalText_sequential_writesTheCurve() throws IOException {
        Path out = tmp.resolve("seq");
        String[] r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", TIME,
                "--layer", "1", "--stats", stats(1), "--steps", "3", "--num-contrastive", "2", "--rows", "0..2",
                "--sequential", "--every", "2", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(2, o.getAsJsonArray("points").size());
        List<String> csv = Files.readAllLines(out.resolve("sequential.csv"));
        assertEquals(3, csv.size());
        assertTrue(csv.get(2).startsWith("3,3,"), csv.get(2));
        assertTrue(Files.size(out.resolve("sequential.png")) > 1000);
        assertTrue(r[2].contains("sequential: 2 edits, 2 rows scored"), r[2]);
    }

    @Test
    void sweep_layersAndN_writesOneTable() throws IOException {
        Path out = tmp.resolve("sweep");
        String[] r = run("sweep", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layers", "1,2", "--n", "0,2", "--stats", statsDir.resolve("L{layer}.safetensors").toString(),
                "--steps", "2", "--rows", "0..1", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(4, o.getAsJsonArray("points").size());
        List<String> csv = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(5, csv.size());
        // layer 2 is the tiny encoder's last layer: δ at the subject cannot reach the pooled token, the search does
        // not move, and such an edit is a failure, not a success (issue 10)
        assertTrue(csv.get(3).startsWith("2,0,0.05,2,2,"), csv.get(3));
        assertTrue(Files.readString(out.resolve("sweep.md")).contains("| 2 | 2 | 0.05 |"));
        assertEquals(4, Files.list(out.resolve("points")).count());

        r = run("sweep", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layers", "1,2", "--stats", stats(1), "--out", out.toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("must contain {layer}") || r[2].contains("give a path containing {layer}"), r[2]);
    }

    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }


    @Test
    void evalText_baseline_writesReportAndResumes() throws IOException {
        Path out = tmp.resolve("base");
        String[] r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--mode", "baseline", "--rows", "0..3", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(4, o.get("computed").getAsInt());
        assertEquals(0, o.get("resumed").getAsInt());
        assertEquals("baseline", o.get("mode").getAsString());
        assertTrue(o.has("baseline"));
        for (String f : List.of("results.jsonl", "report.md", "metrics.csv", "metrics.png")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(5, Files.readAllLines(out.resolve("results.jsonl")).size());
        assertTrue(Files.readString(out.resolve("report.md")).contains("paper Table 1: RoAD, baseline (same mode)"));

        // rerun with more rows: the first four are read back
        r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--mode", "baseline", "--rows", "0..5", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(2, o.get("computed").getAsInt());
        assertEquals(4, o.get("resumed").getAsInt());
        assertTrue(r[2].contains("resuming, 4 of 6 cells"), r[2]);

        // another mode into the same folder is refused, the file unchanged
        String before = Files.readString(out.resolve("results.jsonl"));
        r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--mode", "oracle", "--dataset",
                TIME, "--out", out.toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("different configuration"), r[2]);
        assertEquals(before, Files.readString(out.resolve("results.jsonl")));
    }

    @Test
    void evalText_oracleOnRoadValidation_failsClearly() {
        String[] r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--mode", "oracle", "--out", tmp.resolve("o").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("oracle mode: none of the 10 requested rows of RoAD_validation.csv has oracle prompts"),
                r[2]);
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    @Test
    void evalText_badOptions_failClearly() {
        String[] r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "8..12", "--mode", "baseline", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--rows: row 10 is outside RoAD_validation.csv (10 rows, 0..9)"), r[2]);
        r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "a..b", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--rows: 'a..b' is not an integer or a range"), r[2]);
        r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--sequential", "--mode", "baseline", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--sequential edits"), r[2]);
        r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "0", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("layer 7 is outside the model's 3 layers"), r[2]);
    }

    @Test
    void eval_oracleOnRoadValidationOrMissingClassifier_failsClearly() {
        String[] r = run("eval", "--model", MODEL, "--tokenizer", TOKENIZER, "--classifier", MODEL,
                "--dataset", ROAD, "--mode", "oracle", "--out", tmp.resolve("img").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("oracle mode: none of the 10 requested rows"), r[2]);
        r = run("eval", "--model", MODEL, "--dataset", ROAD);
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("--classifier"), r[2]);
        r = run("eval", "--model", MODEL, "--tokenizer", TOKENIZER, "--classifier", MODEL, "--dataset", ROAD,
                "--seeds", "3..1", "--out", tmp.resolve("img").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--seeds: range 3..1 is empty"), r[2]);
        assertFalse(Files.exists(tmp.resolve("img")));
    }
}
