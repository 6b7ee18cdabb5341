package dev.refact.clip;

import static dev.refact.clip.testing.TensorAssertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ClipTextModelLoadingTest {
    static final Path FIXTURE = SharedData.resolve("models/tiny-random-clip-text");

    /** Copies the fixture into {@code dir}, letting {@code edit} change the tensor list. */
    static Path copyFixture(Path dir, BiConsumer<SafetensorsFile, SafetensorsWriter> edit) throws IOException {
        Files.createDirectories(dir);
        Files.copy(FIXTURE.resolve("config.json"), dir.resolve("config.json"));
        try (SafetensorsFile in = SafetensorsFile.open(FIXTURE.resolve("model.safetensors"));
             PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            edit.accept(in, w);
            w.write(dir.resolve("model.safetensors"));
        }
        return dir;
    }

    static void copyAll(SafetensorsFile in, SafetensorsWriter w, String except) {
        try (org.bytedeco.pytorch.Device cpu = Tensors.cpu()) {
            for (String n : in.names()) {
                if (!n.equals(except)) {
                    w.add(n, in.toTensor(n, cpu));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void load_diffusersRoot_findsTextEncoder(@TempDir Path tmp) throws IOException {
        copyFixture(tmp.resolve("text_encoder"), (in, w) -> copyAll(in, w, ""));
        try (ClipTextModel m = ClipTextModel.load(tmp)) {
            assertEquals(3, m.config().numHiddenLayers());
            assertTrue(m.hasProjection());
        }
    }

    @Test
    void load_missingUnexpectedAndMisshapenTensors_reportsAllByName(@TempDir Path tmp) throws IOException {
        copyFixture(tmp, (in, w) -> {
            copyAll(in, w, "text_model.encoder.layers.1.mlp.fc1.bias");
            w.addFloats("text_model.encoder.layers.9.extra", new float[] {1f}, 1);
        });
        // replace a tensor by a misshapen one: rewrite again
        Path second = tmp.resolve("b");
        copyFixture(second, (in, w) -> {
            copyAll(in, w, "text_model.final_layer_norm.weight");
            w.addFloats("text_model.final_layer_norm.weight", new float[31], 31);
        });
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(tmp));
        assertTrue(e.getMessage().contains("missing tensor 'text_model.encoder.layers.1.mlp.fc1.bias'"), e.getMessage());
        assertTrue(e.getMessage().contains("text_model.encoder.layers.9.extra"), e.getMessage());
        CheckpointFormatException e2 = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(second));
        assertTrue(e2.getMessage().contains("'text_model.final_layer_norm.weight' has shape [31], expected [32]"),
                e2.getMessage());
    }

    @Test
    void load_float16Weights_convertToFloat32AndStayClose(@TempDir Path tmp) throws IOException {
        copyFixture(tmp, (in, w) -> {
            try (org.bytedeco.pytorch.Device cpu = Tensors.cpu()) {
                for (String n : in.names()) {
                    w.add(n, in.toTensor(n, cpu).to(torch.ScalarType.Half));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (ClipTextModel half = ClipTextModel.load(tmp); ClipTextModel full = ClipTextModel.load(FIXTURE);
             PointerScope scope = new PointerScope()) {
            assertEquals(torch.ScalarType.Float, half.dtype());
            Tensor ids = Tensors.longs(new long[] {49406, 320, 1125, 539, 320, 2368, 49407}, full.device(), 1, 7);
            try (TextEncoding a = half.encode(ids); TextEncoding b = full.encode(ids)) {
                // fp16 weights (rel. precision 5e-4) through 3 layers
                assertAllClose(Tensors.toFloats(b.pooled()), a.pooled(), 2e-2, 2e-2, "fp16 vs fp32 pooled");
            }
            // written back in the dtype it came with
            Path out = tmp.resolve("saved");
            half.save(out);
            try (SafetensorsFile sf = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                assertEquals(DType.F16, sf.info("text_model.final_layer_norm.weight").dtype());
            }
        }
    }

    @Test
    void load_geluConfig_usesExactGelu(@TempDir Path tmp) throws IOException {
        copyFixture(tmp, (in, w) -> copyAll(in, w, ""));
        String cfg = Files.readString(tmp.resolve("config.json")).replace("\"quick_gelu\"", "\"gelu\"");
        Files.writeString(tmp.resolve("config.json"), cfg);
        try (ClipTextModel gelu = ClipTextModel.load(tmp); ClipTextModel quick = ClipTextModel.load(FIXTURE);
             PointerScope scope = new PointerScope()) {
            assertEquals("gelu", gelu.config().hiddenAct());
            Tensor ids = Tensors.longs(new long[] {49406, 320, 2368, 49407}, gelu.device(), 1, 4);
            try (MlpTrace g = gelu.traceMlp(ids, 0); MlpTrace q = quick.traceMlp(ids, 0)) {
                // same fc1 pre-activations; keys differ by act only: check gelu(x) = x·Φ(x) on one value
                float[] kg = Tensors.toFloats(g.key());
                float[] kq = Tensors.toFloats(q.key());
                assertFalse(java.util.Arrays.equals(kg, kq));
            }
        }
    }

    @Test
    void load_pickleOnlyFolder_refusesWithConversionHint(@TempDir Path tmp) throws IOException {
        Files.copy(FIXTURE.resolve("config.json"), tmp.resolve("config.json"));
        Files.write(tmp.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(tmp));
        assertTrue(e.getMessage().contains("pickle"), e.getMessage());
        assertTrue(e.getMessage().contains("safetensors"), e.getMessage());
    }

    @Test
    void load_missingFolder_namesIt(@TempDir Path tmp) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> ClipTextModel.load(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void save_thenLoad_roundTripsBitExactly(@TempDir Path tmp) throws IOException {
        try (ClipTextModel m = ClipTextModel.load(FIXTURE)) {
            m.save(tmp);
            try (ClipTextModel again = ClipTextModel.load(tmp)) {
                assertEquals(m.parameterNames(), again.parameterNames());
                for (String n : m.parameterNames()) {
                    assertArrayEquals(Tensors.toFloats(m.parameter(n)), Tensors.toFloats(again.parameter(n)), n);
                }
                assertEquals(m.fingerprint(), again.fingerprint());
            }
        }
    }

    @Test
    void random_sameSeed_sameWeights_otherSeed_differs() {
        ClipTextConfig small = new ClipTextConfig(16, 64, 2, 2, 77, 1000, "quick_gelu", 1e-5, 8, 1, 2);
        try (ClipTextModel a = ClipTextModel.random(small, 7, true); ClipTextModel b = ClipTextModel.random(small, 7, true);
             ClipTextModel c = ClipTextModel.random(small, 8, true)) {
            assertEquals(a.fingerprint(), b.fingerprint());
            assertNotEquals(a.fingerprint(), c.fingerprint());
            assertEquals(8, a.representationDim());
        }
    }

    @Test
    void encode_badIds_throwClearly() {
        try (ClipTextModel m = ClipTextModel.load(FIXTURE); PointerScope scope = new PointerScope()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.encode(Tensors.longs(new long[] {49406, 99999}, m.device(), 1, 2)));
            assertTrue(e.getMessage().contains("99999"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.encode(Tensors.longs(new long[78], m.device(), 1, 78)));
            assertThrows(IllegalArgumentException.class, () -> m.encode(Tensors.longs(new long[3], m.device(), 3)));
            assertThrows(IllegalArgumentException.class, () -> m.traceMlp(Tensors.longs(new long[2], m.device(), 1, 2), 3));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void applyRankOneUpdate_nonFinite_leavesWeightsUnchanged() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(FIXTURE); PointerScope scope = new PointerScope()) {
            String w = ClipTextModel.fc2WeightName(0);
            float[] before = Tensors.toFloats(m.parameter(w));
            float[] r = new float[32];
            r[3] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> m.applyRankOneUpdate(w,
                    Tensors.floats(r, m.device(), 32), Tensors.floats(new float[128], m.device(), 128), "nan"));
            assertThrows(IllegalArgumentException.class, () -> m.applyRankOneUpdate(w,
                    Tensors.floats(new float[31], m.device(), 31), Tensors.floats(new float[128], m.device(), 128), "x"));
            assertArrayEquals(before, Tensors.toFloats(m.parameter(w)));
            assertTrue(m.changes().isEmpty());
        }
    }

    @Test
    void load_insideCallerScope_weightsOutliveTheScope() throws IOException {
        ClipTextModel m;
        ClipTextConfig small = new ClipTextConfig(16, 64, 2, 2, 77, 1000, "quick_gelu", 1e-5, 8, 1, 2);
        ClipTextModel r;
        try (PointerScope scope = new PointerScope()) {
            m = ClipTextModel.load(FIXTURE);
            r = ClipTextModel.random(small, 3, false);
        }
        try (m; r; PointerScope scope = new PointerScope()) {
            Tensor ids = Tensors.longs(new long[] {49406, 320, 2368, 49407}, m.device(), 1, 4);
            try (TextEncoding e = m.encode(ids)) {
                assertEquals(32, e.pooled().size(1));
            }
            try (TextEncoding e = r.encode(Tensors.longs(new long[] {1, 2, 999}, r.device(), 1, 3))) {
                assertEquals(16, e.pooled().size(1));
            }
        }
    }

    /** The fixture (with {@code text_projection.weight} [16, 32]) under a config.json edited by {@code edit}. */
    private static Path fixtureWithConfig(Path dir, java.util.function.Consumer<JsonObject> edit) throws IOException {
        Files.createDirectories(dir);
        Files.copy(FIXTURE.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        JsonObject config = JsonParser.parseString(Files.readString(FIXTURE.resolve("config.json"))).getAsJsonObject();
        edit.accept(config);
        Files.writeString(dir.resolve("config.json"), config.toString());
        return dir;
    }

    @Test
    void load_projectionWithoutProjectionDim_takesItFromTheTensorAndSaveWritesIt(@TempDir Path tmp)
            throws IOException {
        Path in = fixtureWithConfig(tmp.resolve("in"), c -> c.remove("projection_dim"));
        try (ClipTextModel m = ClipTextModel.load(in)) {
            assertTrue(m.hasProjection());
            assertEquals(16, m.config().projectionDim());
            m.save(tmp.resolve("out"));
        }
        JsonObject saved = JsonParser.parseString(Files.readString(tmp.resolve("out/config.json"))).getAsJsonObject();
        assertEquals(16, saved.get("projection_dim").getAsInt(), saved.toString());
        assertEquals("CLIPTextModelWithProjection", saved.getAsJsonArray("architectures").get(0).getAsString());
        try (ClipTextModel again = ClipTextModel.load(tmp.resolve("out"))) {
            assertEquals(16, again.config().projectionDim());
            assertEquals(16, again.representationDim());
        }
    }

    @Test
    void load_projectionDimDisagreesWithTensor_refusedNamingTensorAndShapes(@TempDir Path tmp) throws IOException {
        Path in = fixtureWithConfig(tmp, c -> c.addProperty("projection_dim", 8));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ClipTextModel.load(in));
        assertTrue(e.getMessage().contains("'text_projection.weight' has shape [16, 32], expected [8, 32]")
                && e.getMessage().contains("projection_dim 8"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
