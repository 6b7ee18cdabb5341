package dev.refact.spark;

import static dev.refact.spark.SparkEvalTest.MODEL;
import static dev.refact.spark.SparkEvalTest.ROAD;
import static dev.refact.spark.SparkEvalTest.TOKENIZER;
import static dev.refact.spark.SparkEvalTest.cells;
import static dev.refact.spark.SparkEvalTest.refact;
import static dev.refact.spark.SparkEvalTest.refactSpark;
import static dev.refact.spark.SparkEvalTest.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code refact-spark} run killed midway (SIGKILL of its JVM) and resumed gives the cells of an uninterrupted
 * run; a single-machine run continues a Spark run and the other way round; a cell that fails deterministically
 * is recorded as failed without failing the job.
 */
final class SparkResumeTest {
    /** Rows of RoAD_validation.csv. */
    static final int ROWS = 10;

    @TempDir
    Path tmp;

    @TempDir
    static Path statsDir;

    @BeforeAll
    static void stats() throws IOException {
        SparkEvalTest.writeStats(statsDir);
    }

    private List<String> evalText(int steps) {
        return List.of("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD, "--layer", "1",
                "--stats", statsDir.resolve("L1.safetensors").toString(), "--steps", Integer.toString(steps),
                "--lr", "0.001", "--num-contrastive", "2");
    }

    @Test
    void killedSparkRun_resumes_toTheUninterruptedCells() throws Exception {
        Path killed = tmp.resolve("killed");
        Path whole = tmp.resolve("whole");
        List<String> args = evalText(15);
        Path results = killed.resolve("results.jsonl");

        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-Xmx") && !a.startsWith("-javaagent") && !a.startsWith("-agentlib")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-Xmx1g", "-cp", System.getProperty("java.class.path"), RefactSpark.class.getName()));
        cmd.addAll(args);
        cmd.addAll(List.of("--out", killed.toString(), "--master", "local[1]", "--conf", "spark.ui.enabled=false"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("killed.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        int lines = 0;
        while (p.isAlive() && System.nanoTime() < deadline && lines < 3) {   // header + 2 cells
            Thread.sleep(50);
            lines = Files.isRegularFile(results) ? Files.readAllLines(results, StandardCharsets.UTF_8).size() : 0;
        }
        boolean aliveAtKill = p.isAlive();
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        assertTrue(aliveAtKill, "the run ended before it could be killed: " + Files.readString(tmp.resolve("killed.log")));
        int written = Files.readAllLines(results, StandardCharsets.UTF_8).size() - 1;
        assertTrue(written >= 2 && written < ROWS, written + " cells before the kill");

        String[] r = refactSpark(with(args, "--out", killed.toString()));
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(ROWS, o.get("computed").getAsInt() + o.get("resumed").getAsInt());
        assertTrue(o.get("resumed").getAsInt() >= written, r[1]);
        assertTrue(r[2].contains("resuming"), r[2]);

        String[] u = refact(with(args, "--out", whole.toString()));
        assertEquals("0", u[0], u[2]);
        List<String> a = Files.readAllLines(whole.resolve("results.jsonl"));
        List<String> b = Files.readAllLines(results);
        assertEquals(ROWS + 1, b.size());
        assertEquals(JsonParser.parseString(a.get(0)).getAsJsonObject().get("config"),
                JsonParser.parseString(b.get(0)).getAsJsonObject().get("config"));
        assertEquals(cells(a), cells(b));
    }

    @Test
    void singleMachineRun_continuedOnSpark_andBack() throws IOException {
        Path out = tmp.resolve("mixed");
        Path whole = tmp.resolve("whole");
        List<String> args = evalText(3);
        assertEquals("0", refact(with(args, "--rows", "0..2", "--out", out.toString()))[0]);
        String[] s = refactSpark(with(args, "--rows", "0..5", "--out", out.toString()));
        assertEquals("0", s[0], s[2]);
        JsonObject o = JsonParser.parseString(s[1].strip()).getAsJsonObject();
        assertEquals(3, o.get("resumed").getAsInt());
        assertEquals(3, o.get("computed").getAsInt());
        String[] back = refact(with(args, "--out", out.toString()));
        assertEquals("0", back[0], back[2]);
        o = JsonParser.parseString(back[1].strip()).getAsJsonObject();
        assertEquals(6, o.get("resumed").getAsInt());
        assertEquals(ROWS - 6, o.get("computed").getAsInt());

        assertEquals("0", refact(with(args, "--out", whole.toString()))[0]);
        assertEquals(cells(Files.readAllLines(whole.resolve("results.jsonl"))),
                cells(Files.readAllLines(out.resolve("results.jsonl"))));
        assertEquals(Files.readString(whole.resolve("metrics.csv")), Files.readString(out.resolve("metrics.csv")));
    }

    @Test
    void deterministicFailure_isRecordedAsFailedCell_jobSucceeds() throws IOException {
        // row 1's target is longer than the text encoder's context: the editor refuses it on every attempt
        List<String> lines = Files.readAllLines(Path.of(ROAD), StandardCharsets.UTF_8);
        lines.set(2, lines.get(2).replaceFirst(",António Guterres,", ",António Guterres" + " the very".repeat(60) + ","));
        Path csv = tmp.resolve("road-bad-row.csv");
        Files.write(csv, lines, StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(evalText(3));
        args.set(args.indexOf(ROAD), csv.toString());
        args.addAll(List.of("--rows", "0..3"));

        String[] s = refactSpark(with(args, "--out", tmp.resolve("spark").toString()));
        assertEquals("0", s[0], s[2]);
        JsonObject o = JsonParser.parseString(s[1].strip()).getAsJsonObject();
        assertEquals(1, o.get("failed").getAsInt(), s[1]);
        assertEquals(4, o.get("computed").getAsInt());
        String[] one = refact(with(args, "--out", tmp.resolve("one").toString()));
        assertEquals("0", one[0], one[2]);
        List<String> a = Files.readAllLines(tmp.resolve("one").resolve("results.jsonl"));
        List<String> b = Files.readAllLines(tmp.resolve("spark").resolve("results.jsonl"));
        assertEquals(cells(a), cells(b));
        String failed = cells(b).get("1/0");
        assertTrue(failed.contains("\"error\":\"edit failed: "), failed);
        assertFalse(cells(b).get("0/0").contains("error"));
    }
}
