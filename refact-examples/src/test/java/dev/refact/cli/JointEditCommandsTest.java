package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** refact edit --requests … --joint / --sequential [--protect], apply of joint files, --preset released-code. */
final class JointEditCommandsTest {
    static final Path MODEL = SharedData.resolve("models/tiny-random-clip-text");
    static final Path TOKENIZER = SharedData.resolve("clip-tokenizer");
    static final List<String> REQUESTS = List.of(
            "{\"prompt\": \"The President of the United States\", \"source\": \"Donald Trump\", \"target\": \"Joe Biden\"}",
            "",
            "{\"prompt\": \"a bowl of bananas\", \"source\": \"a bowl of bananas\", \"target\": \"a bowl of blue bananas\"}",
            "{\"prompt\": \"a photo of the eiffel tower\", \"subject\": \"the eiffel tower\", \"source\": \"the eiffel tower\","
                    + " \"target\": \"the statue of liberty\"}");

    @TempDir
    static Path shared;
    static Path stats;

    @TempDir
    Path dir;

    @BeforeAll
    static void stats() throws Exception {
        Path corpus = Files.write(shared.resolve("corpus.txt"), dev.refact.core.ContextTemplates.DEFAULT_CONTRASTIVE,
                StandardCharsets.UTF_8);
        stats = shared.resolve("l1.safetensors");
        StatsCommandTest.Run s = StatsCommandTest.run("stats", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--layer", "1", "--corpus", corpus.toString(), "--out", stats.toString());
        assertEquals(0, s.code(), s.err());
    }

    private StatsCommandTest.Run edit(String... extra) {
        List<String> args = new ArrayList<>(List.of("edit", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--layer", "1", "--stats", stats.toString()));
        args.addAll(List.of(extra));
        return StatsCommandTest.run(args.toArray(String[]::new));
    }

    private Path requests(List<String> lines) throws Exception {
        return Files.write(dir.resolve("requests.jsonl"), lines, StandardCharsets.UTF_8);
    }

    private static void assertSameWeights(Path a, Path b) throws Exception {
        try (ClipTextModel x = ClipTextModel.load(a); ClipTextModel y = ClipTextModel.load(b)) {
            for (String n : x.parameterNames()) {
                assertArrayEquals(Tensors.toFloats(x.parameter(n)), Tensors.toFloats(y.parameter(n)), n);
            }
        }
    }

    @Test
    void editRequestsJoint_oneUpdate_oneFile_applyReproducesWeights() throws Exception {
        Path edited = dir.resolve("edited");
        Path file = dir.resolve("three.joint.safetensors");
        StatsCommandTest.Run e = edit("--requests", requests(REQUESTS).toString(), "--joint", "--steps", "10",
                "--out", edited.toString(), "--save-edit", file.toString());
        assertEquals(0, e.code(), e.err());
        JsonObject o = JsonParser.parseString(e.out()).getAsJsonObject();
        assertEquals("joint", o.get("mode").getAsString());
        assertEquals(3, o.get("requests").getAsInt());
        assertEquals(1, o.getAsJsonArray("change_ids").size());
        JsonArray rows = o.getAsJsonArray("results");
        assertEquals(3, rows.size());
        assertEquals("the eiffel tower", rows.get(2).getAsJsonObject().get("subject").getAsString());
        assertTrue(o.get("max_residual").getAsDouble() < 1e-4, e.out());
        assertTrue(o.get("condition_number").getAsDouble() >= 1);
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            assertEquals("joint_edit", sf.metadata().get("refact.kind"));
            assertEquals("1", sf.metadata().get("layer"));
            assertEquals("text_model.encoder.layers.1.mlp.fc2.weight", sf.metadata().get("weight"));
            assertArrayEquals(new long[] {3, 128}, sf.info("u").shape());
            assertArrayEquals(new long[] {3, 32}, sf.info("r").shape());
            assertArrayEquals(new long[] {3, 128}, sf.info("k_bar").shape());
            assertArrayEquals(new long[] {3, 128}, sf.info("k_b").shape());
            assertArrayEquals(new long[] {3, 32}, sf.info("v_star").shape());
        }
        Path applied = dir.resolve("applied");
        StatsCommandTest.Run a = StatsCommandTest.run("apply", "--model", MODEL.toString(), "--edit", file.toString(),
                "--out", applied.toString());
        assertEquals(0, a.code(), a.err());
        assertSameWeights(edited, applied);
        StatsCommandTest.Run twice = StatsCommandTest.run("apply", "--model", applied.toString(), "--edit",
                file.toString(), "--out", dir.resolve("twice").toString());
        assertEquals(1, twice.code());
        assertTrue(twice.err().startsWith("refact: ") && twice.err().contains("is already applied"), twice.err());
    }

    @Test
    void editRequestsSequentialProtect_keepsEarlierOutputs_filesApplyInOrder() throws Exception {
        Path edited = dir.resolve("edited");
        Path file = dir.resolve("seq.safetensors");
        StatsCommandTest.Run e = edit("--requests", requests(REQUESTS).toString(), "--sequential", "--protect",
                "--steps", "10", "--out", edited.toString(), "--save-edit", file.toString());
        assertEquals(0, e.code(), e.err());
        JsonObject o = JsonParser.parseString(e.out()).getAsJsonObject();
        assertEquals("sequential_protected", o.get("mode").getAsString());
        assertEquals(3, o.getAsJsonArray("change_ids").size());
        assertTrue(o.get("max_protected_drift").getAsDouble() < 1e-5, e.out());
        List<String> args = new ArrayList<>(List.of("apply", "--model", MODEL.toString(), "--edit"));
        for (int i = 1; i <= 3; i++) {
            Path f = dir.resolve("seq-" + i + ".safetensors");
            assertTrue(Files.exists(f), f.toString());
            args.add(f.toString());
        }
        args.addAll(List.of("--out", dir.resolve("applied").toString()));
        StatsCommandTest.Run a = StatsCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, a.code(), a.err());
        assertSameWeights(edited, dir.resolve("applied"));
        StatsCommandTest.Run plain = edit("--requests", requests(REQUESTS).toString(), "--sequential", "--steps", "5");
        assertEquals(0, plain.code(), plain.err());
        assertEquals("sequential", JsonParser.parseString(plain.out()).getAsJsonObject().get("mode").getAsString());
    }

    @Test
    void editRequestsJoint_contradiction_refusedNamingRequests_nothingWritten() throws Exception {
        Path edited = dir.resolve("edited");
        StatsCommandTest.Run e = edit("--requests", requests(List.of(REQUESTS.get(0), REQUESTS.get(2),
                "{\"prompt\": \"The President of the United States\", \"source\": \"Donald Trump\", \"target\": "
                        + "\"Kamala Harris\"}")).toString(), "--joint", "--steps", "3", "--out", edited.toString());
        assertEquals(1, e.code());
        assertTrue(e.err().startsWith("refact: ") && e.err().strip().lines().count() == 1, e.err());
        assertTrue(e.err().contains("request 0") && e.err().contains("request 2")
                && e.err().contains("different targets"), e.err());
        assertFalse(Files.exists(edited));
        // with a ridge the same set is an approximate edit
        StatsCommandTest.Run ridge = edit("--requests", dir.resolve("requests.jsonl").toString(), "--joint",
                "--steps", "3", "--ridge", "0.01");
        assertEquals(0, ridge.code(), ridge.err());
    }

    @Test
    void editRequests_usageAndFileErrors() throws Exception {
        Path req = requests(REQUESTS);
        assertEquals(2, edit("--requests", req.toString()).code(), "needs --joint or --sequential");
        assertEquals(2, edit("--requests", req.toString(), "--joint", "--protect").code());
        assertEquals(2, edit("--requests", req.toString(), "--joint", "--sequential").code());
        assertEquals(2, edit("--joint", "--prompt", "a", "--source", "b", "--target", "c").code());
        assertEquals(2, edit("--requests", req.toString(), "--joint", "--prompt", "x").code());
        assertEquals(2, edit("--preset", "nope", "--prompt", "a cat", "--source", "a cat", "--target", "a dog").code());
        Path bad = Files.write(dir.resolve("bad.jsonl"), List.of(REQUESTS.get(0), "{\"prompt\": \"x\", \"target\": \"y\"}"),
                StandardCharsets.UTF_8);
        StatsCommandTest.Run e = edit("--requests", bad.toString(), "--joint");
        assertEquals(1, e.code());
        assertTrue(e.err().contains("bad.jsonl line 2") && e.err().contains("source"), e.err());
    }

    @Test
    void presetReleasedCode_99AdamUpdates() throws Exception {
        StatsCommandTest.Run p = edit("--preset", "released-code", "--prompt", "The President of the United States",
                "--source", "Donald Trump", "--target", "Joe Biden", "--steps", "3");
        assertEquals(0, p.code(), p.err());
        assertEquals(2, JsonParser.parseString(p.out()).getAsJsonObject().get("max_adam_updates").getAsInt());
        // the released code's own hparams format: v_max_grad_steps = 100 loop iterations = 99 Adam updates
        Path hp = Files.writeString(dir.resolve("released.json"), "{\"layers\": [1], \"v_max_grad_steps\": 100, "
                + "\"v_prob_threshold\": 1.0, \"fact_token\": \"subject_last\"}");
        StatsCommandTest.Run e = StatsCommandTest.run("edit", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--stats", stats.toString(), "--hparams", hp.toString(), "--prompt",
                "The President of the United States", "--source", "Donald Trump", "--target", "Joe Biden");
        assertEquals(0, e.code(), e.err());
        JsonObject o = JsonParser.parseString(e.out()).getAsJsonObject();
        assertEquals(99, o.get("steps").getAsInt());
        assertEquals(99, o.get("max_adam_updates").getAsInt());
        assertEquals("step_cap", o.get("stop_reason").getAsString());
    }
}
