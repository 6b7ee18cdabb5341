package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SdSingleFiles;
import dev.refact.clip.testing.SharedData;
import dev.refact.core.EditProvenance;
import dev.refact.core.EditRequest;
import dev.refact.core.SavedEdit;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate} / {@code compare} with {@code --model FILE.safetensors} (SD 1.x single file, LDM layout). */
final class SdSingleFileCommandsTest {
    @TempDir
    Path tmp;

    private static final Path CLIP = SharedData.resolve("models/tiny-random-clip-text");
    private static final Path TOKENIZER = SharedData.resolve("clip-tokenizer");

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    private Path sdRoot() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("sd"));
        for (String c : new String[] {"unet", "vae", "scheduler"}) {
            Files.createSymbolicLink(root.resolve(c), SharedData.resolve("models/tiny-sd-pipe/" + c));
        }
        Files.createSymbolicLink(root.resolve("text_encoder"), CLIP);
        Files.createSymbolicLink(root.resolve("tokenizer"), TOKENIZER);
        return root;
    }

    @Test
    void generate_singleFile_sameLatentsAsDiffusersFolder() throws Exception {
        Path file = SdSingleFiles.write(tmp, null);
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        String[] common = {"--prompt", "a photo of a cat", "--steps", "3", "--height", "32", "--width", "24",
            "--seed", "4"};
        Run ra = run(concat(new String[] {"generate", "--model", sdRoot().toString(), "--save-tensors", a.toString(),
            "--out", tmp.resolve("a.png").toString()}, common));
        assertEquals(0, ra.code(), ra.err());
        Run rb = run(concat(new String[] {"generate", "--model", file.toString(), "--text-encoder", CLIP.toString(),
            "--tokenizer", TOKENIZER.toString(), "--save-tensors", b.toString(), "--out",
            tmp.resolve("b.png").toString()}, common));
        assertEquals(0, rb.code(), rb.err());
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            assertArrayEquals(fa.readFloats("final_latents"), fb.readFloats("final_latents"));
            assertArrayEquals(fa.readFloats("image"), fb.readFloats("image"));
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a.png")), Files.readAllBytes(tmp.resolve("b.png")));
    }

    @Test
    void generate_singleFileWithItsOwnTextEncoder_sameLatentsAsDiffusersFolder() throws Exception {
        // the whole pipeline from one file: UNet, VAE and text encoder (cond_stage_model.transformer.*); the tiny
        // 32-wide encoder needs its config.json beside the file (real SD widths are inferred from shapes)
        Path file = SdSingleFiles.write(tmp, null);
        Files.copy(CLIP.resolve("config.json"), tmp.resolve("config.json"));
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        String[] common = {"--prompt", "a photo of a dog", "--steps", "2", "--height", "32", "--width", "24",
            "--seed", "7", "--tokenizer", TOKENIZER.toString()};
        Run ra = run(concat(new String[] {"generate", "--model", sdRoot().toString(), "--save-tensors", a.toString(),
            "--out", tmp.resolve("a.png").toString()}, common));
        assertEquals(0, ra.code(), ra.err());
        Run rb = run(concat(new String[] {"generate", "--model", file.toString(), "--save-tensors", b.toString(),
            "--out", tmp.resolve("b.png").toString()}, common));
        assertEquals(0, rb.code(), rb.err());
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            assertArrayEquals(fa.readFloats("final_latents"), fb.readFloats("final_latents"));
        }
    }

    @Test
    void compare_singleFile_writesGrid() throws Exception {
        Path file = SdSingleFiles.write(tmp, null);
        Path edit = tmp.resolve("edit.safetensors");
        try (ClipTextModel clip = ClipTextModel.load(CLIP)) {
            float[] u = new float[clip.config().intermediateSize()];
            float[] r = new float[clip.config().hiddenSize()];
            for (int i = 0; i < u.length; i++) {
                u[i] = (float) Math.sin(i + 1.0);
            }
            for (int i = 0; i < r.length; i++) {
                r[i] = (float) Math.cos(i + 1.0);
            }
            new SavedEdit("e", 1, ClipTextModel.fc2WeightName(1), u, r, clip.fingerprint(),
                    EditRequest.of("a photo of a cat", "cat", "dog"), "{}",
                    new EditProvenance(clip.fingerprint(), CLIP.toString(), "none", "test", "test", "now")).save(edit);
        }
        Run r = run("compare", "--model", file.toString(), "--text-encoder", CLIP.toString(), "--tokenizer",
                TOKENIZER.toString(), "--edit", edit.toString(), "--prompt", "a photo of a cat", "--seeds", "0..1",
                "--steps", "2", "--height", "32", "--width", "24", "--out", tmp.resolve("grid.png").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(tmp.resolve("grid.png")) > 0);
    }

    @Test
    void generate_singleFileMissingUnetTensor_oneLineErrorNamingIt() throws Exception {
        Path file = SdSingleFiles.write(tmp, "model.diffusion_model.output_blocks.2.1.conv.weight");
        Run r = run("generate", "--model", file.toString(), "--text-encoder", CLIP.toString(), "--tokenizer",
                TOKENIZER.toString(), "--prompt", "x", "--steps", "1", "--height", "32", "--width", "24", "--out",
                tmp.resolve("x.png").toString());
        assertEquals(1, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("model.diffusion_model.output_blocks.2.1.conv.weight"), r.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
