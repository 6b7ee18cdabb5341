package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import dev.refact.core.EditProvenance;
import dev.refact.core.EditRequest;
import dev.refact.core.SavedEdit;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refact generate} and {@code refact compare} on the tiny-sd-pipe fixture (diffusers v0.14
 * goldens), with the tiny CLIP text encoder and the real CLIP tokenizer linked in as a diffusers root.
 * Final latents: {@code |a − e| ≤ 2e-4 + 1e-5·|e|}; PNG pixels within 1 of diffusers' uint8 image.
 */
final class GenerateCommandTest {
    private static final String FIXTURE = "models/tiny-sd-pipe";

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    /** A diffusers root made of links to the fixtures (nothing is copied). */
    private Path sdRoot() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("sd"));
        for (String c : new String[] {"unet", "vae", "scheduler"}) {
            Files.createSymbolicLink(root.resolve(c), SharedData.resolve(FIXTURE + "/" + c));
        }
        Files.createSymbolicLink(root.resolve("text_encoder"), SharedData.resolve("models/tiny-random-clip-text"));
        Files.createSymbolicLink(root.resolve("tokenizer"), SharedData.resolve("clip-tokenizer"));
        return root;
    }

    private Path goldenTensor(String name, String as) throws IOException {
        try (SafetensorsFile g = SafetensorsFile.open(SharedData.resolve(FIXTURE + "/golden.safetensors"))) {
            Path f = tmp.resolve(as + ".safetensors");
            new SafetensorsWriter().addFloats(as, g.readFloats(name), g.info(name).shape()).write(f);
            return f;
        }
    }

    private static float[] goldenRow(String name, int row) throws IOException {
        try (SafetensorsFile g = SafetensorsFile.open(SharedData.resolve(FIXTURE + "/golden.safetensors"))) {
            float[] all = g.readFloats(name);
            int per = all.length / (int) g.info(name).shape()[0];
            return Arrays.copyOfRange(all, row * per, (row + 1) * per);
        }
    }

    @Test
    void generate_promptsAndGivenLatents_matchesDiffusersPndmRun() throws IOException {
        Path root = sdRoot();
        Path latents = goldenTensor("e2e.latents_init", "latents");
        Path tensors = tmp.resolve("out.safetensors");
        Path png = tmp.resolve("img.png");
        Run r = run("generate", "--model", root.toString(), "--prompt", "a photo of a cat",
                "An astronaut riding a horse on the moon", "--steps", "4", "--scheduler", "pndm", "--height", "32",
                "--width", "24", "--latents", latents.toString(), "--save-tensors", tensors.toString(),
                "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("img-1.png"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(tensors)) {
            TensorAssertions.assertAllClose(goldenRow("e2e.pndm.latents", 4), f.readFloats("final_latents"), 1e-5, 2e-4,
                    "final_latents");
            assertEquals(Arrays.toString(new long[] {2, 3, 32, 24}), Arrays.toString(f.info("image").shape()));
        }
        long[] expected;
        try (SafetensorsFile g = SafetensorsFile.open(SharedData.resolve(FIXTURE + "/golden.safetensors"))) {
            long[] all = g.readLongs("e2e.pndm.image_uint8");
            expected = Arrays.copyOfRange(all, all.length / 2, all.length);
        }
        BufferedImage im = ImageIO.read(tmp.resolve("img-1.png").toFile());
        assertEquals(24, im.getWidth());
        assertEquals(32, im.getHeight());
        int maxDiff = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 24; x++) {
                int rgb = im.getRGB(x, y);
                int[] px = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
                for (int c = 0; c < 3; c++) {
                    maxDiff = Math.max(maxDiff, Math.abs(px[c] - (int) expected[(y * 24 + x) * 3 + c]));
                }
            }
        }
        assertTrue(maxDiff <= 1, "PNG differs from diffusers' uint8 image by " + maxDiff);
    }

    @Test
    void generate_promptEmbedsFile_matchesDiffusersDdimRun() throws IOException {
        Path embeds = tmp.resolve("embeds.safetensors");
        try (SafetensorsFile g = SafetensorsFile.open(SharedData.resolve(FIXTURE + "/golden.safetensors"))) {
            float[] all = g.readFloats("e2e.prompt_embeds");
            int half = all.length / 2;
            new SafetensorsWriter()
                    .addFloats("negative_prompt_embeds", Arrays.copyOfRange(all, 0, half), 2, 77, 32)
                    .addFloats("prompt_embeds", Arrays.copyOfRange(all, half, all.length), 2, 77, 32).write(embeds);
        }
        Path tensors = tmp.resolve("out.safetensors");
        Run r = run("generate", "--model", SharedData.resolve(FIXTURE).toString(), "--prompt-embeds",
                embeds.toString(), "--steps", "4", "--scheduler", "ddim", "--height", "32", "--width", "24",
                "--latents", goldenTensor("e2e.latents_init", "latents").toString(), "--save-tensors",
                tensors.toString(), "--out", tmp.resolve("x.png").toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(tensors)) {
            TensorAssertions.assertAllClose(goldenRow("e2e.ddim.latents", 3), f.readFloats("final_latents"), 1e-5, 2e-4,
                    "final_latents");
        }
    }

    @Test
    void generate_missingModelFolder_oneLineErrorExit1() {
        Path missing = tmp.resolve("nope");
        Run r = run("generate", "--model", missing.toString(), "--prompt", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("refact: ") && r.err().contains(missing.toString()), r.err());
    }

    @Test
    void generate_textEncoderWidthMismatch_namesCrossAttentionDim() throws IOException {
        Path embeds = tmp.resolve("embeds.safetensors");
        new SafetensorsWriter().addFloats("prompt_embeds", new float[77 * 16], 1, 77, 16)
                .addFloats("negative_prompt_embeds", new float[77 * 16], 1, 77, 16).write(embeds);
        Run r = run("generate", "--model", SharedData.resolve(FIXTURE).toString(), "--prompt-embeds",
                embeds.toString(), "--steps", "2", "--height", "32", "--width", "24");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("cross_attention_dim"), r.err());
    }

    @Test
    void compare_editFile_writesBeforeAfterGrid() throws IOException {
        Path root = sdRoot();
        Path edit = tmp.resolve("edit.safetensors");
        try (ClipTextModel clip = ClipTextModel.load(root)) {
            int layer = 1;
            float[] u = new float[clip.config().intermediateSize()];
            float[] rr = new float[clip.config().hiddenSize()];
            for (int i = 0; i < u.length; i++) {
                u[i] = (float) Math.sin(i + 1.0);
            }
            for (int i = 0; i < rr.length; i++) {
                rr[i] = (float) Math.cos(i + 1.0);
            }
            new SavedEdit("test-edit", layer, ClipTextModel.fc2WeightName(layer), u, rr, clip.fingerprint(),
                    EditRequest.of("a photo of a cat", "cat", "dog"), "{}",
                    new EditProvenance(clip.fingerprint(), root.toString(), "none", "test", "test", "now")).save(edit);
        }
        Path grid = tmp.resolve("grid.png");
        Run r = run("compare", "--model", root.toString(), "--edit", edit.toString(), "--prompt", "a photo of a cat",
                "--seeds", "0..1", "--steps", "2", "--height", "32", "--width", "24", "--out", grid.toString());
        assertEquals(0, r.code(), r.err());
        double change = com.google.gson.JsonParser.parseString(r.out().trim()).getAsJsonObject()
                .get("mean_abs_pixel_change").getAsDouble();
        assertTrue(change > 0.5, "the edit did not change the images: " + r.out());
        BufferedImage im = ImageIO.read(grid.toFile());
        assertTrue(im.getWidth() >= 2 * 24 && im.getHeight() >= 2 * 32, im.getWidth() + "x" + im.getHeight());
    }
}
