package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the shared fixtures and checks names, shapes and values against the raw bytes. */
final class SafetensorsFixturesTest {
    private static final String CLIP = "models/tiny-random-clip-text/model.safetensors";
    private static final String GOLDEN = "models/tiny-random-clip-text/golden.safetensors";
    private static final String UNET = "models/tiny-sd-pipe/unet/diffusion_pytorch_model.safetensors";

    @TempDir
    Path tmp;

    @Test
    void open_tinyClipText_lists53F32TensorsWithShapes() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(CLIP))) {
            assertEquals(53, f.names().size());
            assertEquals("pt", f.metadata().get("format"));
            assertTrue(f.infos().stream().allMatch(t -> t.dtype() == DType.F32));
            assertArrayEquals(new long[] {32, 128}, f.info("text_model.encoder.layers.0.mlp.fc2.weight").shape());
            assertArrayEquals(new long[] {128, 32}, f.info("text_model.encoder.layers.0.mlp.fc1.weight").shape());
            assertArrayEquals(new long[] {49408, 32}, f.info("text_model.embeddings.token_embedding.weight").shape());
            assertArrayEquals(new long[] {16, 32}, f.info("text_projection.weight").shape());
            assertEquals("text_model.embeddings.position_embedding.weight", f.names().get(0));
        }
    }

    @Test
    void readFloats_tinyClipText_matchesRawLittleEndianBytes() throws IOException {
        Path p = SharedData.resolve(CLIP);
        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorInfo t = f.info("text_model.encoder.layers.2.mlp.fc2.bias");
            float[] got = f.readFloats(t.name());
            assertEquals(32, got.length);
            ByteBuffer b = ByteBuffer.wrap(raw, (int) (8 + n + t.begin()), 128).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 32; i++) {
                assertEquals(Float.floatToRawIntBits(b.getFloat()), Float.floatToRawIntBits(got[i]), "element " + i);
            }
        }
    }

    @Test
    void toTensor_tinyClipText_equalsReadFloats() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(CLIP));
             Device cpu = Tensors.cpu()) {
            String name = "text_model.encoder.layers.0.mlp.fc2.weight";
            float[] expected = f.readFloats(name);
            try (Tensor t = f.toTensor(name, cpu)) {
                assertEquals(ScalarType.Float, t.scalar_type().intern());
                assertArrayEquals(new long[] {32, 128}, Tensors.shape(t));
                assertArrayEquals(expected, Tensors.toFloats(t));
            }
            try (Tensor d = f.toTensor(name, ScalarType.Double, cpu)) {
                assertEquals(ScalarType.Double, d.scalar_type().intern());
                double[] got = Tensors.toDoubles(d);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals((double) expected[i], got[i]);
                }
            }
        }
    }

    @Test
    void open_golden_readsF64AndI64() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(GOLDEN));
             Device cpu = Tensors.cpu()) {
            assertEquals(DType.F64, f.info("edit.C").dtype());
            assertArrayEquals(new long[] {128, 128}, f.info("edit.C").shape());
            double[] c = f.readDoubles("edit.C");
            // edit.C is a second moment plus a ridge: symmetric with a positive diagonal
            for (int i = 0; i < 128; i++) {
                assertTrue(c[i * 128 + i] > 0);
                for (int j = 0; j < i; j++) {
                    assertEquals(c[i * 128 + j], c[j * 128 + i], 1e-12);
                }
            }
            TensorInfo ids = f.info("input_ids");
            assertEquals(DType.I64, ids.dtype());
            assertArrayEquals(new long[] {5, 77}, ids.shape());
            long[] tokens = f.readLongs("input_ids");
            for (int b = 0; b < 5; b++) {
                assertEquals(49406, tokens[b * 77], "BOS of prompt " + b);
                assertEquals(49407, tokens[b * 77 + 76], "last (padding) token of prompt " + b);
            }
            try (Tensor t = f.toTensor("input_ids", cpu)) {
                assertEquals(ScalarType.Long, t.scalar_type().intern());
                assertArrayEquals(tokens, Tensors.toLongs(t));
            }
            try (Tensor t = f.toTensor("edit.C", cpu)) {
                assertArrayEquals(c, Tensors.toDoubles(t));
            }
        }
    }

    @Test
    void open_unet_listsTensorsAndReadsConvWeight() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(UNET))) {
            assertEquals(304, f.names().size());
            TensorInfo w = f.info("conv_in.weight");
            assertEquals(DType.F32, w.dtype());
            assertArrayEquals(new long[] {32, 4, 3, 3}, w.shape());
            assertEquals(32 * 4 * 9, f.readFloats("conv_in.weight").length);
        }
    }

    @Test
    void write_allTensorsOfFixtures_rereadsIdenticalNamesShapesAndBits() throws IOException {
        for (String fixture : new String[] {CLIP, UNET, GOLDEN}) {
            Path src = SharedData.resolve(fixture);
            Path out = tmp.resolve("copy.safetensors");
            List<Tensor> open = new ArrayList<>();
            try (SafetensorsFile f = SafetensorsFile.open(src); Device cpu = Tensors.cpu()) {
                SafetensorsWriter w = new SafetensorsWriter();
                f.metadata().forEach(w::metadata);
                for (TensorInfo t : f.infos()) {
                    if (t.dtype() == DType.F32) {
                        w.addFloats(t.name(), f.readFloats(t.name()), t.shape());
                    } else if (t.dtype() == DType.I64) {
                        w.addLongs(t.name(), f.readLongs(t.name()), t.shape());
                    } else {
                        Tensor x = f.toTensor(t.name(), cpu);
                        open.add(x);
                        w.add(t.name(), x);
                    }
                }
                w.write(out);
                byte[] srcBytes = Files.readAllBytes(src);
                byte[] outBytes = Files.readAllBytes(out);
                try (SafetensorsFile g = SafetensorsFile.open(out)) {
                    assertEquals(f.names().size(), g.names().size(), fixture);
                    for (TensorInfo t : f.infos()) {
                        TensorInfo u = g.info(t.name());
                        assertEquals(t.dtype(), u.dtype(), t.name());
                        assertArrayEquals(t.shape(), u.shape(), t.name());
                        assertArrayEquals(rawBytes(srcBytes, t), rawBytes(outBytes, u), t.name());
                    }
                    f.metadata().forEach((k, v) -> assertEquals(v, g.metadata().get(k), k));
                }
            } finally {
                open.forEach(Tensor::close);
            }
        }
    }

    /** The tensor's bytes read directly from the file, independently of the reader. */
    static byte[] rawBytes(byte[] all, TensorInfo t) {
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return Arrays.copyOfRange(all, (int) (8 + n + t.begin()), (int) (8 + n + t.end()));
    }

    @Test
    void info_absentName_throwsNamingFileTensorAndCloseNames() throws IOException {
        Path p = SharedData.resolve(CLIP);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> f.info("text_model.encoder.layers.0.mlp.fc3.weight"));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("'text_model.encoder.layers.0.mlp.fc3.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("'text_model.encoder.layers.0.mlp.fc2.weight'"), e.getMessage());
        }
    }

    @Test
    void readFloats_afterClose_throwsIllegalState() throws IOException {
        SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(CLIP));
        f.close();
        assertThrows(IllegalStateException.class, () -> f.readFloats("text_projection.weight"));
        try (Device cpu = Tensors.cpu()) {
            assertThrows(IllegalStateException.class, () -> f.toTensor("text_projection.weight", cpu));
        }
        f.close(); // idempotent
    }
}
