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

    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    /** Runs with System.out/err captured (the commands print their summary to System.out). */
    static String[] runCapturing(String... args) {
        java.io.PrintStream oldOut = System.out;
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            String[] r = run(args);
            return new String[] {r[0], out.toString(java.nio.charset.StandardCharsets.UTF_8) + r[1],
                err.toString(java.nio.charset.StandardCharsets.UTF_8) + r[2]};
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void evalText_baseline_writesReportAndResumes() throws IOException {
        Path out = tmp.resolve("base");
        String[] r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
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
        r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--mode", "baseline", "--rows", "0..5", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(2, o.get("computed").getAsInt());
        assertEquals(4, o.get("resumed").getAsInt());
        assertTrue(r[2].contains("resuming, 4 of 6 cells"), r[2]);

        // another mode into the same folder is refused, the file unchanged
        String before = Files.readString(out.resolve("results.jsonl"));
        r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--mode", "oracle", "--dataset",
                TIME, "--out", out.toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("different configuration"), r[2]);
        assertEquals(before, Files.readString(out.resolve("results.jsonl")));
    }

    @Test
    void evalText_oracleOnRoadValidation_failsClearly() {
        String[] r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--mode", "oracle", "--out", tmp.resolve("o").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("oracle mode: none of the 10 requested rows of RoAD_validation.csv has oracle prompts"),
                r[2]);
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    @Test
    void evalText_badOptions_failClearly() {
        String[] r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "8..12", "--mode", "baseline", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--rows: row 10 is outside RoAD_validation.csv (10 rows, 0..9)"), r[2]);
        r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "a..b", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--rows: 'a..b' is not an integer or a range"), r[2]);
        r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--sequential", "--mode", "baseline", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("--sequential edits"), r[2]);
        r = runCapturing("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--rows", "0", "--out", tmp.resolve("x").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("layer 7 is outside the model's 3 layers"), r[2]);
    }

    @Test
    void eval_withoutThePipeline_failsClearly() {
        String[] r = runCapturing("eval", "--model", MODEL, "--tokenizer", TOKENIZER, "--classifier", MODEL,
                "--dataset", ROAD, "--out", tmp.resolve("img").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("refact eval"), r[2]);
    }
}
