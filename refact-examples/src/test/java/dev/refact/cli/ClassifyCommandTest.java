package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code refact classify} on the tiny full CLIP fixture: JSON on stdout, tensors in the safetensors file. */
final class ClassifyCommandTest {
    static final Path DIR = SharedData.resolve("models/tiny-clip-full");

    @TempDir
    Path tmp;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void classify_fixtureImagesAndPair_writesGoldenProbabilities() throws IOException {
        Path out = tmp.resolve("scores.safetensors");
        String[] r = run("classify", "--classifier", DIR.toString(), "--tokenizer",
                SharedData.resolve("clip-tokenizer").toString(), "--images",
                DIR.resolve("images/img0_57x40.png").toString(), DIR.resolve("images/img1_40x57.png").toString(),
                DIR.resolve("images/img2_64x64.png").toString(), "--texts", "a photo of a cat", "a photo of a dog",
                "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject json = JsonParser.parseString(r[1]).getAsJsonObject();
        assertEquals("fixed100", json.get("scale").getAsString());
        JsonObject golden = JsonParser.parseString(Files.readString(DIR.resolve("golden.json"))).getAsJsonObject();
        JsonArray expected = golden.getAsJsonObject("results").getAsJsonArray("refact.pair_probs_100");
        JsonArray images = json.getAsJsonArray("images");
        assertEquals(3, images.size());
        for (int i = 0; i < 3; i++) {
            JsonArray p = images.get(i).getAsJsonObject().getAsJsonArray("probs");
            JsonArray e = expected.get(i).getAsJsonArray().get(0).getAsJsonArray();
            assertEquals(e.get(0).getAsDouble(), p.get(0).getAsDouble(), 1e-5, "image " + i);
            assertEquals(e.get(1).getAsDouble(), p.get(1).getAsDouble(), 1e-5, "image " + i);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out);
             SafetensorsFile g = SafetensorsFile.open(DIR.resolve("golden.safetensors"))) {
            assertArrayEquals(new long[] {3, 3, 32, 32}, f.info("pixel_values").shape());
            assertArrayEquals(g.readFloats("pixel_values"), f.readFloats("pixel_values"));
            assertArrayEquals(new long[] {3, 16}, f.info("image_embeds").shape());
            assertArrayEquals(new long[] {2, 16}, f.info("text_embeds").shape());
            assertArrayEquals(new long[] {3, 2}, f.info("logits_per_image").shape());
            assertArrayEquals(new long[] {3, 2}, f.info("probs").shape());
            float[] ie = f.readFloats("image_embeds");
            float[] ge = g.readFloats("vision.image_embeds");
            for (int i = 0; i < ie.length; i++) {
                assertEquals(ge[i], ie[i], 1e-5, "image_embeds " + i);
            }
            assertEquals("fixed100", f.metadata().get("scale"));
        }
    }

    @Test
    void classify_modelScale_usesExpLogitScale() throws IOException {
        Path out = tmp.resolve("m.safetensors");
        String[] r = run("classify", "--classifier", DIR.toString(), "--tokenizer",
                SharedData.resolve("clip-tokenizer").toString(), "--images", DIR.resolve("images/img2_64x64.png").toString(),
                "--texts", "The Eiffel Tower in Paris, oil painting!", "a red circle on a blue gradient",
                "--scale", "model", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        JsonObject json = JsonParser.parseString(r[1]).getAsJsonObject();
        assertEquals(18.476032, json.get("scale_value").getAsDouble(), 1e-5);
        JsonArray p = json.getAsJsonArray("images").get(0).getAsJsonObject().getAsJsonArray("probs");
        assertEquals(0.9386491179466248, p.get(1).getAsDouble(), 1e-5);
    }

    @Test
    void classify_missingImage_failsWithOneLineNamingIt() {
        Path out = tmp.resolve("x.safetensors");
        String[] r = run("classify", "--classifier", DIR.toString(), "--tokenizer",
                SharedData.resolve("clip-tokenizer").toString(), "--images", tmp.resolve("nope.png").toString(),
                "--texts", "a", "b", "--out", out.toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].startsWith("refact: ") && r[2].contains("nope.png"), r[2]);
        assertFalse(Files.exists(out));
    }

    @Test
    void classify_badScale_failsClearly() {
        String[] r = run("classify", "--classifier", DIR.toString(), "--images", "a.png", "--texts", "a",
                "--scale", "big", "--out", tmp.resolve("y.safetensors").toString());
        assertEquals("1", r[0]);
        assertTrue(r[2].contains("fixed100 or model"), r[2]);
    }
}
