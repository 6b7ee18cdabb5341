package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 from outside: each defect of the bad-input sweep reproduced on the command line (tiny fixtures) and now
 * a one-line error, exit 1 or 2, nothing written — or, for ordinary prompts, a success.
 */
final class RobustnessCommandsTest {
    static final String MODEL = SharedData.resolve("models/tiny-random-clip-text").toString();
    static final String TOKENIZER = SharedData.resolve("clip-tokenizer").toString();
    static final String SD = "models/tiny-sd-pipe";

    @TempDir
    static Path shared;
    static Path stats;

    @TempDir
    Path dir;

    @BeforeAll
    static void computeStats() throws IOException {
        Path corpus = Files.write(shared.resolve("corpus.txt"), dev.refact.core.ContextTemplates.DEFAULT_CONTRASTIVE,
                StandardCharsets.UTF_8);
        stats = shared.resolve("l1.safetensors");
        StatsCommandTest.Run s = StatsCommandTest.run("stats", "--model", MODEL, "--tokenizer", TOKENIZER, "--layer",
                "1", "--corpus", corpus.toString(), "--out", stats.toString());
        assertEquals(0, s.code(), s.err());
    }

    private static StatsCommandTest.Run run(String... args) {
        return StatsCommandTest.run(args);
    }

    private static StatsCommandTest.Run edit(String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("edit", "--model", MODEL, "--tokenizer", TOKENIZER,
                "--source", "Donald Trump", "--target", "Joe Biden", "--layer", "1", "--stats", stats.toString()));
        a.addAll(List.of(extra));
        return run(a.toArray(new String[0]));
    }

    /** One line on stderr starting "refact: ", no stack trace, no Java class names, no URLs. */
    private static void assertOneLineError(StatsCommandTest.Run r, String... contains) {
        assertTrue(r.code() == 1 || r.code() == 2, "exit " + r.code() + ": " + r.err());
        String err = r.err().strip();
        List<String> lines = err.lines().toList();
        // progress lines may come first; the error is the last line (for usage errors: before the help hint)
        String first = r.code() == 2 ? lines.get(0) : lines.get(lines.size() - 1);
        assertTrue(first.startsWith("refact: "), err);
        assertTrue(lines.stream().allMatch(l -> l.startsWith("refact") || l.startsWith("Try ")), err);
        assertFalse(err.contains("\tat ") || err.contains("Exception") || err.contains("http"), err);
        assertFalse(err.contains(".tmp"), err);
        assertTrue(first.length() < 700, "message too long: " + first.length());
        for (String c : contains) {
            assertTrue(first.contains(c), "expected '" + c + "' in: " + first);
        }
    }

    private Path bigOneLineFile(long mib) throws IOException {
        Path f = dir.resolve("big.txt");
        try (OutputStream out = Files.newOutputStream(f)) {
            byte[] block = new byte[1 << 20];
            java.util.Arrays.fill(block, (byte) 'a');
            for (int i = 0; i < mib; i++) {
                out.write(block);
            }
        }
        return f;
    }

    // ---- 2. an edit that did not do what it says

    @Test
    void edit_lr1e30_failsClearly_nothingWritten() {
        Path out = dir.resolve("edited");
        Path editFile = dir.resolve("x.edit.safetensors");
        StatsCommandTest.Run r = edit("--prompt", "The President of the United States", "--steps", "10", "--lr", "1e30",
                "--out", out.toString(), "--save-edit", editFile.toString());
        assertOneLineError(r, "did not move", "learning rate");
        assertFalse(Files.exists(editFile));
        assertFalse(Files.exists(out.resolve("model.safetensors")));
    }

    @Test
    void edit_emptyContrastiveFile_refusedNotNZero() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.txt"), "\n  \n");
        assertOneLineError(edit("--prompt", "a cat", "--contrastive", empty.toString()), "--contrastive",
                "is empty");
    }

    // ---- 3. bounded inputs

    @Test
    void edit_contrastiveDevZero_oneLineErrorNoOutOfMemory() {
        assertOneLineError(edit("--prompt", "a cat", "--contrastive", "/dev/zero"), "/dev/zero", "longer than 1 MiB");
    }

    @Test
    void edit_hparamsDevZeroAndHugeFile_refusedBySize() throws IOException {
        assertOneLineError(edit("--prompt", "a cat", "--hparams", "/dev/zero"), "/dev/zero", "larger than 1 MiB");
        assertOneLineError(edit("--prompt", "a cat", "--hparams", bigOneLineFile(3).toString()), "larger than");
    }

    @Test
    void edit_hparamsNotJson_noLibraryUrlOrClassName() throws IOException {
        Path h = Files.writeString(dir.resolve("h.json"), "{\"layers\": [1,");
        assertOneLineError(edit("--prompt", "a cat", "--hparams", h.toString()), "h.json");
    }

    @Test
    void encode_hugeOneLinePromptsFile_oneLineErrorWithoutEchoingIt() throws IOException {
        Path big = bigOneLineFile(3);
        StatsCommandTest.Run r = run("encode", "--model", MODEL, "--tokenizer", TOKENIZER, "--prompts", big.toString(),
                "--out", dir.resolve("e.safetensors").toString());
        assertOneLineError(r, "big.txt", "line 1 is longer than 1 MiB");
        assertFalse(r.err().contains("aaaaaaaaaa"), "user text echoed");
    }

    @Test
    void tokenize_jsonlDevZero_oneLineError() {
        assertOneLineError(run("tokenize", "--tokenizer", TOKENIZER, "--jsonl", "/dev/zero"), "/dev/zero",
                "longer than");
    }

    @Test
    void evalText_datasetDevZero_refusedBySize() {
        assertOneLineError(run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", "/dev/zero",
                "--layer", "1", "--out", dir.resolve("o").toString()), "/dev/zero", "larger than 64 MiB");
    }

    @Test
    void generate_width100000_oneLineErrorBeforeAllocation() {
        assertOneLineError(run("generate", "--model", SharedData.resolve(SD).toString(), "--prompt", "x",
                "--width", "100000", "--out", dir.resolve("x.png").toString()), "--height and --width", "2048");
        assertOneLineError(run("generate", "--model", SharedData.resolve(SD).toString(), "--prompt", "x",
                "--width", "100", "--out", dir.resolve("x.png").toString()), "multiples of 8");
    }

    /** A diffusers root of links to the fixtures, with a modified unet/config.json. */
    private Path sdWithUnetValue(String key, String json) throws IOException {
        Path root = Files.createDirectories(dir.resolve("sd"));
        Files.createSymbolicLink(root.resolve("vae"), SharedData.resolve(SD + "/vae"));
        Files.createSymbolicLink(root.resolve("scheduler"), SharedData.resolve(SD + "/scheduler"));
        Files.createSymbolicLink(root.resolve("text_encoder"), Path.of(MODEL));
        Files.createSymbolicLink(root.resolve("tokenizer"), Path.of(TOKENIZER));
        Path unet = Files.createDirectories(root.resolve("unet"));
        try (var s = Files.list(SharedData.resolve(SD + "/unet"))) {
            for (Path p : s.toList()) {
                if (!p.getFileName().toString().equals("config.json")) {
                    Files.createSymbolicLink(unet.resolve(p.getFileName()), p);
                }
            }
        }
        String text = Files.readString(SharedData.resolve(SD + "/unet/config.json"));
        Files.writeString(unet.resolve("config.json"),
                text.replaceFirst("\"" + key + "\"\\s*:\\s*[^,\\n}]+", "\"" + key + "\": " + json));
        return root;
    }

    @Test
    void generate_unetNormEpsNaN_refusedAtConfigValidation() throws IOException {
        Path root = sdWithUnetValue("norm_eps", "NaN");
        Path png = dir.resolve("x.png");
        assertOneLineError(run("generate", "--model", root.toString(), "--prompt", "a cat", "--steps", "2",
                "--height", "32", "--width", "24", "--out", png.toString()), "config.json", "norm_eps");
        assertFalse(Files.exists(png));
    }

    @Test
    void generate_unetLayersPerBlockHugeOrGroupsZero_refusedNamingField() throws IOException {
        Path root = sdWithUnetValue("layers_per_block", "100000000");
        assertOneLineError(run("generate", "--model", root.toString(), "--prompt", "a cat", "--steps", "2",
                "--height", "32", "--width", "24", "--out", dir.resolve("x.png").toString()), "config.json",
                "layers_per_block = 100000000 is out of range");
    }

    @Test
    void generate_promptEmbedsThatOverflowTheUnet_failsNamingTheStage() throws IOException {
        Path embeds = dir.resolve("embeds.safetensors");
        float[] huge = new float[77 * 32];
        java.util.Arrays.fill(huge, 3e38f);
        new SafetensorsWriter().addFloats("prompt_embeds", huge, 1, 77, 32)
                .addFloats("negative_prompt_embeds", huge, 1, 77, 32).write(embeds);
        Path png = dir.resolve("x.png");
        StatsCommandTest.Run r = run("generate", "--model", SharedData.resolve(SD).toString(), "--prompt-embeds",
                embeds.toString(), "--steps", "2", "--height", "32", "--width", "24", "--out", png.toString());
        assertOneLineError(r, "non-finite");
        assertTrue(r.err().contains("unet step 1") || r.err().contains("scheduler step")
                || r.err().contains("vae decode"), r.err());
        assertFalse(Files.exists(png));
    }

    /** The tiny text encoder with layer 1's fc2 weight scaled by 1e30: finite weights, non-finite outputs. */
    private Path overflowingEncoder() throws IOException {
        Path te = Files.createDirectories(dir.resolve("nan-encoder"));
        Files.copy(Path.of(MODEL).resolve("config.json"), te.resolve("config.json"));
        try (SafetensorsFile sf = SafetensorsFile.open(Path.of(MODEL).resolve("model.safetensors"))) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : sf.names()) {
                float[] v = sf.readFloats(n);
                if (n.equals("text_model.encoder.layers.1.mlp.fc2.weight")) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] *= 1e30f;
                    }
                }
                w.addFloats(n, v, sf.info(n).shape());
            }
            w.write(te.resolve("model.safetensors"));
        }
        return te;
    }

    @Test
    void encode_encoderProducingNaN_failsNamingTheTextEncoder_noFileWritten() throws IOException {
        Path prompts = Files.write(dir.resolve("p.txt"), List.of("a photo of a cat"), StandardCharsets.UTF_8);
        Path out = dir.resolve("e.safetensors");
        assertOneLineError(run("encode", "--model", overflowingEncoder().toString(), "--tokenizer", TOKENIZER,
                "--prompts", prompts.toString(), "--out", out.toString()), "text encoder", "non-finite");
        assertFalse(Files.exists(out));
    }

    @Test
    void classify_visionTowerProducingNaN_failsNamingTheClassifier() throws IOException {
        Path src = SharedData.resolve("models/tiny-clip-full");
        Path cls = Files.createDirectories(dir.resolve("nan-classifier"));
        for (String f : new String[] {"config.json", "preprocessor_config.json"}) {
            Files.copy(src.resolve(f), cls.resolve(f));
        }
        try (SafetensorsFile sf = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String n : sf.names()) {
                float[] v = sf.readFloats(n);
                if (n.equals("vision_model.encoder.layers.0.mlp.fc2.weight")) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] *= 1e30f;
                    }
                }
                w.addFloats(n, v, sf.info(n).shape());
            }
            w.write(cls.resolve("model.safetensors"));
        }
        Path out = dir.resolve("c.safetensors");
        assertOneLineError(run("classify", "--classifier", cls.toString(), "--tokenizer", TOKENIZER, "--images",
                src.resolve("images/img2_64x64.png").toString(), "--texts", "a cat", "a dog", "--out", out.toString()),
                "classifier", "non-finite");
        assertFalse(Files.exists(out));
    }

    @Test
    void evalText_reportFilesHaveNormalPermissions() throws IOException {
        Path out = dir.resolve("ev");
        StatsCommandTest.Run r = run("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset",
                SharedData.resolve("refact/road/RoAD_validation.csv").toString(), "--layer", "1", "--stats",
                stats.toString(), "--steps", "3", "--num-contrastive", "2", "--rows", "0..0", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"report.md", "metrics.csv", "results.jsonl"}) {
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(f))), f);
        }
    }

    // ---- 1. + 5. applied edit files

    private Path editFile() {
        Path f = dir.resolve("ok.edit.safetensors");
        StatsCommandTest.Run r = edit("--prompt", "The President of the United States", "--steps", "10",
                "--save-edit", f.toString());
        assertEquals(0, r.code(), r.err());
        return f;
    }

    /** The edit file with r scaled (metadata checksum recomputed, as a hostile file would have it). */
    private Path scaledEdit(Path f, float scale) throws IOException {
        Path out = dir.resolve("scaled.edit.safetensors");
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            Map<String, String> m = new LinkedHashMap<>(sf.metadata());
            float[] r = sf.readFloats("r");
            for (int i = 0; i < r.length; i++) {
                r[i] *= scale;
            }
            m.put("r_sha256", dev.refact.clip.io.Sha256.ofFloats(r));
            SafetensorsWriter w = new SafetensorsWriter();
            m.forEach(w::metadata);
            w.addFloats("u", sf.readFloats("u"), sf.info("u").shape()[0]).addFloats("r", r, r.length).write(out);
        }
        return out;
    }

    @Test
    void apply_rScaledBy1e30_refusedBeforeWeightsChange_forcedStillRefusedAsNonFinite() throws IOException {
        Path bad = scaledEdit(editFile(), 1e30f);
        Path out = dir.resolve("applied");
        assertOneLineError(run("apply", "--model", MODEL, "--edit", bad.toString(), "--out", out.toString()),
                "‖ΔW‖/‖W‖", "--force");
        assertFalse(Files.exists(out.resolve("model.safetensors")));
        assertOneLineError(run("apply", "--model", MODEL, "--edit", bad.toString(), "--out", out.toString(),
                "--force"));
        assertFalse(Files.exists(out.resolve("model.safetensors")));
    }

    @Test
    void apply_tamperedEditFile_detectedByChecksum() throws IOException {
        Path f = editFile();
        Path tampered = dir.resolve("t.edit.safetensors");
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            float[] r = sf.readFloats("r");
            r[0] += 1f;
            SafetensorsWriter w = new SafetensorsWriter();
            sf.metadata().forEach(w::metadata);
            w.addFloats("u", sf.readFloats("u"), sf.info("u").shape()[0]).addFloats("r", r, r.length).write(tampered);
        }
        assertOneLineError(run("apply", "--model", MODEL, "--edit", tampered.toString(), "--out",
                dir.resolve("a").toString()), "t.edit.safetensors", "checksum");
    }

    @Test
    void editFile_provenanceHasNoAbsolutePath_andChecksums() throws IOException {
        Path f = editFile();
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            JsonObject p = JsonParser.parseString(sf.metadata().get("provenance")).getAsJsonObject();
            assertEquals("tiny-random-clip-text", p.get("model_source").getAsString());
            assertEquals(dev.refact.clip.io.Sha256.ofFloats(sf.readFloats("u")), sf.metadata().get("u_sha256"));
            assertFalse(sf.metadata().values().stream().anyMatch(v -> v.contains(MODEL)), sf.metadata().toString());
        }
    }

    @Test
    void edit_statisticsOfAnotherModel_refusedUnlessAllowed() throws IOException {
        Path foreign = dir.resolve("foreign.safetensors");
        try (SafetensorsFile sf = SafetensorsFile.open(stats)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (Map.Entry<String, String> e : sf.metadata().entrySet()) {
                w.metadata(e.getKey(), e.getValue().replaceAll("[0-9a-f]{64}", "0".repeat(64)));
            }
            for (String n : sf.names()) {
                w.addFloats(n, sf.readFloats(n), sf.info(n).shape());
            }
            w.write(foreign);
        }
        List<String> a = List.of("edit", "--model", MODEL, "--tokenizer", TOKENIZER, "--prompt", "a cat", "--source",
                "cat", "--target", "dog", "--layer", "1", "--steps", "5", "--stats", foreign.toString());
        assertOneLineError(run(a.toArray(new String[0])), "another model", "--allow-foreign-stats");
        List<String> allowed = new java.util.ArrayList<>(a);
        allowed.add("--allow-foreign-stats");
        StatsCommandTest.Run r = run(allowed.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
    }

    // ---- 4. ordinary prompts

    @Test
    void edit_promptsEndingInPunctuationOrEmoji_succeedWithDefaultSubject() {
        String[][] cases = {{"A photo of a cat.", "A photo of a cat"}, {"What a day!", "What a day"},
            {"Is it a dog?", "Is it a dog"}, {"a corgi 🐶", "a corgi"}};
        for (String[] c : cases) {
            StatsCommandTest.Run r = edit("--prompt", c[0], "--steps", "5");
            assertEquals(0, r.code(), c[0] + ": " + r.err());
            assertEquals(c[1], JsonParser.parseString(r.out()).getAsJsonObject().get("subject").getAsString());
        }
        // the user's own subject that cannot be located still gets the clear error
        assertOneLineError(edit("--prompt", "a photo of a dog", "--subject", "cat"), "does not occur in prompt");
    }

    // ---- 6. every error says what and where

    @Test
    void missingDirectoryAndNonUtf8Inputs_saidInWords() throws IOException {
        String[] base = {"encode", "--model", MODEL, "--tokenizer", TOKENIZER, "--out",
            dir.resolve("e.safetensors").toString(), "--prompts"};
        assertOneLineError(run(concat(base, dir.resolve("nope.txt").toString())), "nope.txt", "does not exist");
        assertOneLineError(run(concat(base, dir.toString())), "is a directory");
        Path latin1 = Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xe9, '\n'});
        assertOneLineError(run(concat(base, latin1.toString())), "latin1.txt", "not valid UTF-8");
        assertOneLineError(run("apply", "--model", dir.resolve("no-model").toString(), "--edit",
                dir.resolve("no.edit.safetensors").toString(), "--out", dir.resolve("o").toString()), "no.edit",
                "does not exist");
    }

    @Test
    void stats_badSampleCount_namesTheFlagNotTheField() {
        StatsCommandTest.Run r = run("stats", "--model", MODEL, "--tokenizer", TOKENIZER, "--layer", "1", "--samples",
                "0", "--out", dir.resolve("s.safetensors").toString());
        assertOneLineError(r, "--samples");
        assertFalse(r.err().contains("sampleLimit"), r.err());
    }

    @Test
    void outputFolderThatIsAFile_refusedBeforeComputing() throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        long start = System.nanoTime();
        assertOneLineError(edit("--prompt", "a cat", "--out", file.toString()), "afile", "is a file");
        assertOneLineError(run("stats", "--model", MODEL, "--tokenizer", TOKENIZER, "--layer", "1", "--out",
                dir.resolve("missing/dir/s.safetensors").toString()), "does not exist");
        assertTrue(System.nanoTime() - start < 60e9);
    }

    @Test
    void editOut_writesConfigJsonWithNormalPermissions() throws IOException {
        Path out = dir.resolve("edited");
        StatsCommandTest.Run r = edit("--prompt", "a cat", "--steps", "5", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(f))), f);
        }
    }

    private static String[] concat(String[] a, String b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}
