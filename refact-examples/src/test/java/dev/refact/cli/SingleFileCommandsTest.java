package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.CheckpointFixtures;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --model FILE.safetensors}, {@code --encoder 2} and {@code --out FILE.safetensors}, in-process. */
final class SingleFileCommandsTest {
    static final Path TINY = CheckpointFixtures.tinyText();
    static final String SD1 = "cond_stage_model.transformer.";

    @TempDir
    Path dir;

    /** An SD 1.x single file (F16 text encoder, UNet/VAE tensors, I64 position_ids) with the tiny config beside. */
    private Path sd1File() throws Exception {
        Path f;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            CheckpointFixtures.addUnrelated(t);
            t.putAll(CheckpointFixtures.cast(CheckpointFixtures.ldmClip(
                    CheckpointFixtures.readHf(TINY.resolve("model.safetensors")), SD1, true, ScalarType.Long),
                    ScalarType.Half));
            f = CheckpointFixtures.write(t, Map.of("modelspec.title", "tiny"), dir.resolve("ckpt").resolve("sd1.safetensors"));
        }
        CheckpointFixtures.configBeside(f, TINY);
        return f;
    }

    private Path sdxlFile() throws Exception {
        Path f;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            CheckpointFixtures.addUnrelated(t);
            t.putAll(CheckpointFixtures.ldmClip(CheckpointFixtures.readHf(TINY.resolve("model.safetensors")),
                    "conditioner.embedders.0.transformer.", true, null));
            t.putAll(CheckpointFixtures.openClip(CheckpointFixtures.readHf(
                    SharedData.resolve("models/tiny-clip-full/model.safetensors")), "conditioner.embedders.1.model.",
                    false));
            f = CheckpointFixtures.write(t, Map.of(), dir.resolve("xl").resolve("xl.safetensors"));
        }
        CheckpointFixtures.configBeside(f, TINY);
        return f;
    }

    @Test
    void encode_singleFileWithoutTokenizer_usesBundledVocabAndMatchesGolden() throws Exception {
        Path model = sd1File();
        Path prompts = Files.write(dir.resolve("p.txt"), List.of("a photo of a cat"), StandardCharsets.UTF_8);
        Path out = dir.resolve("enc.safetensors");
        StatsCommandTest.Run r = StatsCommandTest.run("encode", "--model", model.toString(), "--prompts",
                prompts.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile golden = SafetensorsFile.open(TINY.resolve("golden.safetensors"))) {
            long[] ids = golden.readLongs("input_ids");
            assertArrayEquals(java.util.Arrays.copyOf(ids, 77), got.readLongs("input_ids"), "bundled tokenizer ids");
            float[] g = golden.readFloats("pooled_output");
            TensorAssertions.assertAllClose(java.util.Arrays.copyOf(g, 32), got.readFloats("pooled"), 2e-2, 2e-2,
                    "pooled from the F16 single file");
        }
    }

    @Test
    void tokenize_withoutTokenizer_usesBundledVocabulary() {
        StatsCommandTest.Run r = StatsCommandTest.run("tokenize", "a photo of a cat");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("[49406, 320, 1125, 539, 320, 2368, 49407]"), r.out());
    }

    @Test
    void encode_sdxlEncoder2_projectsAndPadsWithZero_badEncoderIsUsageError() throws Exception {
        Path model = sdxlFile();
        Path prompts = Files.write(dir.resolve("p.txt"), List.of("a photo of a cat"), StandardCharsets.UTF_8);
        Path out = dir.resolve("enc2.safetensors");
        StatsCommandTest.Run r = StatsCommandTest.run("encode", "--model", model.toString(), "--encoder", "2",
                "--prompts", prompts.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            assertArrayEquals(new long[] {1, 16}, got.info("text_embeds").shape());
            long[] ids = got.readLongs("input_ids");
            assertEquals(49407, ids[6]);
            assertEquals(0, ids[7], "SDXL encoder 2 pads with 0");
        }
        StatsCommandTest.Run bad = StatsCommandTest.run("encode", "--model", model.toString(), "--encoder", "3",
                "--prompts", prompts.toString(), "--out", dir.resolve("x.safetensors").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().startsWith("refact: --encoder must be 1 or 2"), bad.err());
    }

    @Test
    void editAndApply_outSingleFile_changeOnlyTheEditedTensor_andAgree() throws Exception {
        Path model = sd1File();
        Path corpus = Files.write(dir.resolve("corpus.txt"), dev.refact.core.ContextTemplates.DEFAULT_CONTRASTIVE,
                StandardCharsets.UTF_8);
        Path stats = dir.resolve("l1.safetensors");
        StatsCommandTest.Run s = StatsCommandTest.run("stats", "--model", model.toString(), "--layer", "1",
                "--corpus", corpus.toString(), "--out", stats.toString());
        assertEquals(0, s.code(), s.err());
        Path edited = dir.resolve("out").resolve("edited.safetensors");
        Path editFile = dir.resolve("p.edit.safetensors");
        StatsCommandTest.Run e = StatsCommandTest.run("edit", "--model", model.toString(), "--prompt",
                "The President of the United States", "--source", "Donald Trump", "--target", "Joe Biden", "--layer",
                "1", "--stats", stats.toString(), "--steps", "10", "--out", edited.toString(), "--save-edit",
                editFile.toString());
        assertEquals(0, e.code(), e.err());
        String fc2 = SD1 + "text_model.encoder.layers.1.mlp.fc2.weight";
        try (SafetensorsFile in = SafetensorsFile.open(model); SafetensorsFile out = SafetensorsFile.open(edited)) {
            assertEquals(in.infos(), out.infos());
            for (String n : in.names()) {
                boolean same = java.util.Arrays.equals(CheckpointFixtures.rawBytes(model, n),
                        CheckpointFixtures.rawBytes(edited, n));
                assertEquals(!n.equals(fc2), same, n);
            }
            assertEquals("tiny", out.metadata().get("modelspec.title"));
        }
        Path applied = dir.resolve("applied.safetensors");
        StatsCommandTest.Run a = StatsCommandTest.run("apply", "--model", model.toString(), "--edit",
                editFile.toString(), "--out", applied.toString());
        assertEquals(0, a.code(), a.err());
        assertArrayEquals(CheckpointFixtures.rawBytes(edited, fc2), CheckpointFixtures.rawBytes(applied, fc2));

        byte[] before = Files.readAllBytes(model);
        StatsCommandTest.Run own = StatsCommandTest.run("apply", "--model", model.toString(), "--edit",
                editFile.toString(), "--out", model.toString());
        assertEquals(2, own.code(), own.err());
        assertTrue(own.err().contains("refusing to overwrite"), own.err());
        assertArrayEquals(before, Files.readAllBytes(model));
        assertFalse(own.err().contains("\tat "), "no stack trace");
    }
}
