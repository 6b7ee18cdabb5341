package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import dev.refact.clip.torch.Tensors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** encode, stats → edit → apply, and demo, run in-process on the tiny fixture. */
final class EditCommandsTest {
    @TempDir
    Path dir;

    static final Path MODEL = SharedData.resolve("models/tiny-random-clip-text");
    static final Path TOKENIZER = SharedData.resolve("clip-tokenizer");

    @Test
    void encode_goldenPrompts_matchesReferenceOutputs() throws Exception {
        Path prompts = Files.write(dir.resolve("prompts.txt"), List.of("a photo of a cat",
                "The Eiffel Tower in Paris, oil painting!", "An astronaut riding a horse on the moon",
                "the president of the united states", ""), StandardCharsets.UTF_8);
        Path out = dir.resolve("enc.safetensors");
        StatsCommandTest.Run r = StatsCommandTest.run("encode", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--prompts", prompts.toString(), "--out", out.toString(), "--hidden-states",
                "--batch", "2");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile golden = SafetensorsFile.open(MODEL.resolve("golden.safetensors"))) {
            assertArrayEquals(golden.readLongs("input_ids"), got.readLongs("input_ids"));
            for (String name : new String[] {"last_hidden_state", "text_embeds", "hidden_states.0", "hidden_states.3",
                "layers.1.mlp_key"}) {
                TensorAssertions.assertAllClose(golden.readFloats(name), got.readFloats(name), 1e-5, 1e-5, name);
            }
            TensorAssertions.assertAllClose(golden.readFloats("pooled_output"), got.readFloats("pooled"), 1e-5, 1e-5,
                    "pooled");
            assertArrayEquals(new long[] {5, 77, 32}, got.info("last_hidden_state").shape());
        }
    }

    @Test
    void encode_missingPromptsFile_failsWithOneLine() {
        StatsCommandTest.Run r = StatsCommandTest.run("encode", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--prompts", dir.resolve("nope.txt").toString(), "--out",
                dir.resolve("x.safetensors").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("refact: ") && r.err().contains("nope.txt"), r.err());
    }

    @Test
    void statsEditApply_roundTrip_appliedModelEqualsEditedModel() throws Exception {
        Path corpus = Files.write(dir.resolve("corpus.txt"), dev.refact.core.ContextTemplates.DEFAULT_CONTRASTIVE,
                StandardCharsets.UTF_8);
        Path stats = dir.resolve("l1.safetensors");
        StatsCommandTest.Run s = StatsCommandTest.run("stats", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--layer", "1", "--corpus", corpus.toString(), "--out", stats.toString());
        assertEquals(0, s.code(), s.err());
        Path edited = dir.resolve("edited");
        Path editFile = dir.resolve("p.edit.safetensors");
        StatsCommandTest.Run e = StatsCommandTest.run("edit", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--prompt", "The President of the United States", "--source", "Donald Trump",
                "--target", "Joe Biden", "--layer", "1", "--stats", stats.toString(), "--steps", "20",
                "--out", edited.toString(), "--save-edit", editFile.toString());
        assertEquals(0, e.code(), e.err());
        JsonObject summary = JsonParser.parseString(e.out()).getAsJsonObject();
        assertEquals(1, summary.get("layer").getAsInt());
        assertTrue(summary.get("steps").getAsInt() <= 20);
        assertTrue(summary.getAsJsonObject("text_space").getAsJsonObject("after").has("efficacy"));
        assertTrue(summary.getAsJsonObject("times_ms").get("total").getAsDouble() > 0);

        Path applied = dir.resolve("applied");
        StatsCommandTest.Run a = StatsCommandTest.run("apply", "--model", MODEL.toString(), "--edit",
                editFile.toString(), "--out", applied.toString());
        assertEquals(0, a.code(), a.err());
        try (ClipTextModel x = ClipTextModel.load(edited); ClipTextModel y = ClipTextModel.load(applied)) {
            for (String n : x.parameterNames()) {
                assertArrayEquals(Tensors.toFloats(x.parameter(n)), Tensors.toFloats(y.parameter(n)), n);
            }
        }
        // applying the same edit on top of the edited model is refused: the saved weights record it
        StatsCommandTest.Run twice = StatsCommandTest.run("apply", "--model", applied.toString(), "--edit",
                editFile.toString(), "--out", dir.resolve("twice").toString());
        assertEquals(1, twice.code());
        assertTrue(twice.err().contains("already applied"), twice.err());
        assertTrue(!Files.exists(dir.resolve("twice")));
    }

    @Test
    void edit_subjectNotInPrompt_failsClearly() {
        StatsCommandTest.Run e = StatsCommandTest.run("edit", "--model", MODEL.toString(), "--tokenizer",
                TOKENIZER.toString(), "--prompt", "a photo of a dog", "--subject", "cat", "--source", "a", "--target",
                "b", "--layer", "1");
        assertEquals(1, e.code());
        assertTrue(e.err().contains("subject \"cat\" does not occur in prompt \"a photo of a dog\""), e.err());
    }

    @Test
    void demo_withoutModel_runsOnGeneratedTinyModelAndSaysSo() throws Exception {
        StatsCommandTest.Run d = StatsCommandTest.run("demo", "--out", dir.toString(), "--steps", "10");
        assertEquals(0, d.code(), d.err());
        assertTrue(d.err().contains("GENERATED tiny random"), d.err());
        JsonObject report = JsonParser.parseString(d.out()).getAsJsonObject();
        assertTrue(report.get("model").getAsString().startsWith("GENERATED"));
        assertTrue(report.get("reapplied_bit_exact").getAsBoolean());
        assertTrue(report.get("undo_bit_exact").getAsBoolean());
        assertTrue(Files.isRegularFile(dir.resolve("president.edit.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("edited/text_encoder/model.safetensors")));
    }
}
