package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code refact eval-text --joint} and {@code --sequential --protect} on the tiny fixture. */
final class JointEvalTextCommandTest {
    @TempDir
    Path tmp;

    @TempDir
    static Path statsDir;

    /** Statistics of layer 1 of the tiny model over the TIME test prompts. */
    @BeforeAll
    static void stats() throws IOException {
        EvalCommandsTest.writeStats(statsDir, 1);
    }

    private String[] evalText(String dataset, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("eval-text", "--model", EvalCommandsTest.MODEL,
                "--tokenizer", EvalCommandsTest.TOKENIZER, "--dataset", dataset, "--layer", "1", "--stats",
                statsDir.resolve("L1.safetensors").toString(), "--steps", "3", "--num-contrastive", "2"));
        args.addAll(List.of(extra));
        return EvalCommandsTest.run(args.toArray(String[]::new));
    }

    @Test
    void evalTextJoint_editsAllRowsOnce_scoresEveryRow() throws IOException {
        Path out = tmp.resolve("joint");
        String[] r = evalText(EvalCommandsTest.TIME, "--rows", "0..3", "--joint", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(1, o.getAsJsonArray("points").size());
        JsonObject p = o.getAsJsonArray("points").get(0).getAsJsonObject();
        assertEquals(4, p.get("edits").getAsInt());
        assertEquals(4 - o.get("failed").getAsInt(), p.get("rows_scored").getAsInt());
        assertTrue(p.get("rows_scored").getAsInt() >= 2, r[1]);
        assertTrue(Files.exists(out.resolve("sequential.csv")));
    }

    @Test
    void evalTextSequentialProtect_writesTheProtectedCurve() throws IOException {
        Path out = tmp.resolve("prot");
        String[] r = evalText(EvalCommandsTest.ROAD, "--rows", "0..2", "--sequential", "--protect", "--every", "1",
                "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(3 - o.get("failed").getAsInt(), o.get("edited").getAsInt());
        assertTrue(o.getAsJsonArray("points").size() >= 1);
    }

    @Test
    void evalText_protectWithoutSequential_orJointWithSequential_isUsageError() {
        assertEquals("2", evalText(EvalCommandsTest.ROAD, "--rows", "0..1", "--protect")[0]);
        assertEquals("2", evalText(EvalCommandsTest.ROAD, "--rows", "0..1", "--joint", "--sequential")[0]);
    }
}
