package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code refact bench encoder} on the tiny fixture: the last stdout line is the JSON of medians. */
final class BenchCommandTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void benchEncoder_tinyModel_lastLineIsJsonWithBothMedians() {
        String[] r = run("bench", "encoder", "--model", SharedData.resolve("models/tiny-random-clip-text").toString(),
                "--reps", "2", "--warmup", "1");
        assertEquals("0", r[0], r[2]);
        String[] lines = r[1].strip().split("\n");
        JsonObject json = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        assertEquals(2, json.size(), json.toString());
        assertTrue(json.get("batch1_ms").getAsDouble() > 0);
        assertTrue(json.get("batch8_ms").getAsDouble() > 0);
    }

    @Test
    void benchEncoder_zeroReps_isAUsageError() {
        String[] r = run("bench", "encoder", "--model", "x", "--reps", "0");
        assertEquals("2", r[0]);
        assertTrue(r[2].startsWith("refact: "), r[2]);
    }

    @Test
    void bench_withoutBenchmark_isAUsageError() {
        assertEquals("2", run("bench")[0]);
    }
}
