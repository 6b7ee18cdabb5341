package dev.refact.clip;

import static dev.refact.clip.testing.CheckpointFixtures.addUnrelated;
import static dev.refact.clip.testing.CheckpointFixtures.cast;
import static dev.refact.clip.testing.CheckpointFixtures.configBeside;
import static dev.refact.clip.testing.CheckpointFixtures.ldmClip;
import static dev.refact.clip.testing.CheckpointFixtures.openClip;
import static dev.refact.clip.testing.CheckpointFixtures.rawBytes;
import static dev.refact.clip.testing.CheckpointFixtures.readHf;
import static dev.refact.clip.testing.CheckpointFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.testing.CheckpointFixtures;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
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

/** {@code save(FILE.safetensors)} writes the input single file back with only the edited tensor changed. */
final class SingleFileWriteBackTest {
    static final Path TINY = CheckpointFixtures.tinyText();

    @TempDir
    Path tmp;

    /** Edits layer {@code layer}'s fc2 with a rank-one update and writes the model to {@code out}. */
    private static void editAndSave(ClipTextModel m, int layer, Path out) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            int d = m.config().hiddenSize();
            int k = m.config().intermediateSize();
            float[] r = new float[d];
            float[] u = new float[k];
            for (int i = 0; i < d; i++) {
                r[i] = 0.01f * (i % 7 - 3);
            }
            for (int i = 0; i < k; i++) {
                u[i] = 0.02f * (i % 5 - 2);
            }
            m.applyRankOneUpdate(ClipTextModel.fc2WeightName(layer), Tensors.floats(r, m.device(), d),
                    Tensors.floats(u, m.device(), k), "test-edit");
        }
        m.save(out);
    }

    /** Every tensor but {@code edited}: same name, order, dtype, shape, offsets and bytes; metadata kept. */
    private static void assertOnlyChanged(Path in, Path out, String edited) throws IOException {
        try (SafetensorsFile a = SafetensorsFile.open(in); SafetensorsFile b = SafetensorsFile.open(out)) {
            assertEquals(a.names(), b.names(), "tensor order");
            List<TensorInfo> ia = a.infos();
            List<TensorInfo> ib = b.infos();
            assertEquals(ia, ib, "names, dtypes, shapes and offsets");
            for (String n : a.names()) {
                boolean same = java.util.Arrays.equals(rawBytes(in, n), rawBytes(out, n));
                assertEquals(!n.equals(edited), same, n + (n.equals(edited) ? " must change" : " must keep its bytes"));
            }
            for (Map.Entry<String, String> e : a.metadata().entrySet()) {
                assertEquals(e.getValue(), b.metadata().get(e.getKey()), "metadata " + e.getKey());
            }
            assertEquals(edited, b.metadata().get("refact.edited_tensors"));
            assertEquals("[\"test-edit\"]", b.metadata().get("refact.changes"));
            assertEquals(in.getFileName().toString(), b.metadata().get("refact.source"));
        }
    }

    @Test
    void save_sd1HalfSingleFile_changesOnlyEditedFc2_inItsDtype() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            t.putAll(cast(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX, true,
                    ScalarType.Long), ScalarType.Half));
            in = write(t, Map.of("modelspec.title", "tiny", "format", "pt"), tmp.resolve("m").resolve("sd1.safetensors"));
            configBeside(in, TINY);
        }
        Path out = tmp.resolve("out").resolve("sd1-edited.safetensors");
        String key = TextEncoderCheckpoint.SD1_PREFIX + "text_model.encoder.layers.1.mlp.fc2.weight";
        try (ClipTextModel m = ClipTextModel.load(in)) {
            editAndSave(m, 1, out);
            assertOnlyChanged(in, out, key);
            try (SafetensorsFile f = SafetensorsFile.open(out)) {
                assertEquals(DType.F16, f.info(key).dtype());
            }
            Files.copy(TINY.resolve("config.json"), out.resolveSibling("config.json"));
            try (ClipTextModel again = ClipTextModel.load(out); PointerScope scope = new PointerScope()) {
                float[] expected = Tensors.toFloats(m.parameter(ClipTextModel.fc2WeightName(1)).to(ScalarType.Half)
                        .to(ScalarType.Float));
                assertArrayEquals(expected, Tensors.toFloats(again.parameter(ClipTextModel.fc2WeightName(1))));
            }
        }
    }

    @Test
    void save_sd2OpenClipFile_writesCProjOfThatBlock() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            t.putAll(openClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD2_PREFIX, true));
            in = write(t, Map.of(), tmp.resolve("m2").resolve("sd2.safetensors"));
            configBeside(in, TINY);
        }
        Path out = tmp.resolve("sd2-edited.safetensors");
        try (ClipTextModel m = ClipTextModel.load(in)) {
            editAndSave(m, 2, out);
        }
        assertOnlyChanged(in, out, TextEncoderCheckpoint.SD2_PREFIX + "transformer.resblocks.2.mlp.c_proj.weight");
    }

    @Test
    void save_sdxlEncoder2_writesConditionerEmbedders1() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            Map<String, Tensor> hf = readHf(TINY.resolve("model.safetensors"));
            t.putAll(ldmClip(hf, TextEncoderCheckpoint.SDXL1_PREFIX, true, null));
            t.putAll(cast(openClip(readHf(SharedData.resolve("models/tiny-clip-full/model.safetensors")),
                    TextEncoderCheckpoint.SDXL2_PREFIX, false), ScalarType.BFloat16));
            in = write(t, Map.of(), tmp.resolve("m3").resolve("xl.safetensors"));
            configBeside(in, TINY);
        }
        Path out = tmp.resolve("xl-edited.safetensors");
        try (org.bytedeco.pytorch.Device cpu = Tensors.cpu();
             ClipTextModel m = ClipTextModel.load(in, 2, cpu, ScalarType.Float)) {
            editAndSave(m, 0, out);
        }
        assertOnlyChanged(in, out, TextEncoderCheckpoint.SDXL2_PREFIX + "transformer.resblocks.0.mlp.c_proj.weight");
    }

    @Test
    void save_ontoItsOwnInput_isRefused_andLeavesTheFileAlone() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            in = write(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX, true, null),
                    Map.of(), tmp.resolve("own").resolve("sd1.safetensors"));
            configBeside(in, TINY);
        }
        byte[] before = Files.readAllBytes(in);
        try (ClipTextModel m = ClipTextModel.load(in)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> editAndSave(m, 0, in.resolveSibling("./sd1.safetensors")));
            assertTrue(e.getMessage().contains("own input"), e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(in));
        try (java.util.stream.Stream<Path> s = Files.list(in.getParent())) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void save_inputChangedSinceLoading_isRefused() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            in = write(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX, true, null),
                    Map.of(), tmp.resolve("ch").resolve("sd1.safetensors"));
            configBeside(in, TINY);
        }
        Path out = tmp.resolve("changed-out.safetensors");
        try (ClipTextModel m = ClipTextModel.load(in)) {
            Files.setLastModifiedTime(in, java.nio.file.attribute.FileTime.fromMillis(
                    Files.getLastModifiedTime(in).toMillis() + 10_000));
            dev.refact.clip.io.CheckpointFormatException e = assertThrows(
                    dev.refact.clip.io.CheckpointFormatException.class, () -> editAndSave(m, 0, out));
            assertTrue(e.getMessage().contains("changed on disk"), e.getMessage());
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void save_generatedModelToFile_isRefused() {
        ClipTextConfig small = new ClipTextConfig(64, 128, 1, 1, 77, 100, "quick_gelu", 1e-5, 0, 1, 2);
        try (ClipTextModel m = ClipTextModel.random(small, 1, false)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.save(tmp.resolve("x.safetensors")));
            assertTrue(e.getMessage().contains("folder"), e.getMessage());
            assertFalse(Files.exists(tmp.resolve("x.safetensors")));
        }
    }

    @Test
    void save_unchangedModel_reproducesEveryTensorByte() throws IOException {
        Path in;
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            addUnrelated(t);
            t.putAll(cast(ldmClip(readHf(TINY.resolve("model.safetensors")), TextEncoderCheckpoint.SD1_PREFIX, false,
                    ScalarType.Float), ScalarType.BFloat16));
            in = write(t, Map.of(), tmp.resolve("u").resolve("sd1.safetensors"));
            configBeside(in, TINY);
        }
        Path out = tmp.resolve("copy.safetensors");
        try (ClipTextModel m = ClipTextModel.load(in)) {
            m.save(out);
        }
        try (SafetensorsFile a = SafetensorsFile.open(in)) {
            for (String n : a.names()) {
                assertArrayEquals(rawBytes(in, n), rawBytes(out, n), n);
            }
        }
    }
}
