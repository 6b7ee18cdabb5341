package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer → reader round trips, exact header bytes, ordering, validation and atomicity. */
final class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void write_singleF32Tensor_producesExactlyTheBytesOfTheReferenceLayout() throws IOException {
        Path p = dir.resolve("one.safetensors");
        new SafetensorsWriter().addFloats("attn.0", new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3).write(p);
        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        byte[] expected = TestFiles.safetensors(json, TestFiles.floatsLE(0, 1, 2, 3, 4, 5));
        assertEquals(0, (expected.length - 24) % 8);
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    @Test
    void write_noTensors_writesPaddedMetadataOnly() throws IOException {
        Path p = dir.resolve("empty.safetensors");
        new SafetensorsWriter().write(p);
        byte[] b = Files.readAllBytes(p);
        // {"__metadata__":{"format":"pt"}} is 32 bytes: already a multiple of 8, no padding
        assertArrayEquals(TestFiles.safetensors("{\"__metadata__\":{\"format\":\"pt\"}}", new byte[0]), b);
        assertEquals(40, b.length);
    }

    @Test
    void write_mixedDtypes_ordersByDescendingAlignmentThenName() throws IOException {
        Path p = dir.resolve("mixed.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        // added in a scrambled order
        w.addBytes("flag", DType.BOOL, new byte[] {1}, 1);
        w.addBytes("h", DType.F16, TestFiles.shortsLE(0x3C00), 1);
        w.addLongs("ids", new long[] {1}, 1);
        w.addBytes("b", DType.BF16, TestFiles.shortsLE(0x3F80), 1);
        w.addFloats("z", new float[] {1}, 1);
        w.addFloats("a", new float[] {1}, 1);
        w.addBytes("d", DType.F64, new byte[8], 1);
        w.addBytes("i", DType.I32, new byte[4], 1);
        w.addBytes("s", DType.I16, new byte[2], 1);
        w.addBytes("c", DType.I8, new byte[1], 1);
        w.addBytes("u", DType.U8, new byte[1], 1);
        w.write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("ids", "d", "a", "z", "i", "b", "h", "s", "c", "u", "flag"), f.names());
            long offset = 0;
            for (TensorInfo t : f.infos()) {
                assertEquals(offset, t.begin(), t.name() + " is contiguous with the previous tensor");
                offset = t.end();
            }
            assertEquals(Files.size(p), 8 + headerLength(p) + offset, "no trailing bytes");
        }
        String header = new String(Files.readAllBytes(p), 8, (int) headerLength(p), StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"ids\":"), header);
    }

    @Test
    void write_everyDtypeFromRawBytes_readsBackBitIdentical() throws IOException {
        Path p = dir.resolve("all.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        java.util.Random r = new java.util.Random(42);
        java.util.Map<String, byte[]> data = new java.util.LinkedHashMap<>();
        for (DType d : DType.values()) {
            byte[] b = new byte[6 * d.byteSize()];
            r.nextBytes(b);
            if (d == DType.BOOL) {
                for (int i = 0; i < b.length; i++) {
                    b[i] = (byte) (b[i] & 1);
                }
            }
            data.put(d.name(), b);
            w.addBytes("t_" + d.name(), d, b, 2, 3);
        }
        w.write(p);
        byte[] all = Files.readAllBytes(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            for (DType d : DType.values()) {
                TensorInfo t = f.info("t_" + d.name());
                assertEquals(d, t.dtype());
                assertArrayEquals(new long[] {2, 3}, t.shape());
                assertArrayEquals(data.get(d.name()), SafetensorsFixturesTest.rawBytes(all, t), d.name());
            }
            ByteBuffer i64 = ByteBuffer.wrap(data.get("I64")).order(ByteOrder.LITTLE_ENDIAN);
            long[] longs = f.readLongs("t_I64");
            for (int i = 0; i < 6; i++) {
                assertEquals(i64.getLong(i * 8), longs[i]);
            }
            long[] u8 = f.readLongs("t_U8");
            long[] i8 = f.readLongs("t_I8");
            for (int i = 0; i < 6; i++) {
                assertEquals(data.get("U8")[i] & 0xFF, u8[i]);
                assertEquals(data.get("I8")[i], i8[i]);
            }
            ByteBuffer f64 = ByteBuffer.wrap(data.get("F64")).order(ByteOrder.LITTLE_ENDIAN);
            double[] doubles = f.readDoubles("t_F64");
            for (int i = 0; i < 6; i++) {
                assertEquals(Double.doubleToRawLongBits(f64.getDouble(i * 8)), Double.doubleToRawLongBits(doubles[i]));
            }
        }
    }

    @Test
    void write_everyDtypeFromTensors_roundTripsThroughTorch() throws IOException {
        Path p = dir.resolve("torch.safetensors");
        float[] values = {0f, 1f, -2f, 3.5f, 100f, -7f};
        List<Tensor> keep = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); Device cpu = Tensors.cpu()) {
            Tensor base = Tensors.floats(values, cpu, 2, 3);
            SafetensorsWriter w = new SafetensorsWriter();
            for (DType d : DType.values()) {
                Tensor t = base.to(d.scalarType());
                keep.add(t);
                w.add(d.name(), t);
            }
            w.write(p);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (DType d : DType.values()) {
                    TensorInfo info = f.info(d.name());
                    assertEquals(d, info.dtype(), d.name());
                    assertArrayEquals(new long[] {2, 3}, info.shape());
                    double[] expected = Tensors.toDoubles(keep.get(d.ordinal()));
                    Tensor back = f.toTensor(d.name(), cpu);
                    assertEquals(d.scalarType(), back.scalar_type().intern(), d.name());
                    assertArrayEquals(expected, Tensors.toDoubles(back), d.name());
                    if (d.isFloatingPoint()) {
                        float[] fl = f.readFloats(d.name());
                        for (int i = 0; i < 6; i++) {
                            assertEquals((float) expected[i], fl[i], d.name());
                        }
                    } else {
                        long[] l = f.readLongs(d.name());
                        for (int i = 0; i < 6; i++) {
                            assertEquals((long) expected[i], l[i], d.name());
                        }
                    }
                }
                // BOOL of {0,1,-2,3.5,100,-7} is {0,1,1,1,1,1}
                assertArrayEquals(new long[] {0, 1, 1, 1, 1, 1}, f.readLongs("BOOL"));
                // U8 of -2 wraps as torch casts
                assertEquals(Tensors.toLongs(keep.get(DType.U8.ordinal()))[2], f.readLongs("U8")[2]);
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void write_nonContiguousTensor_writesLogicalOrder() throws IOException {
        Path p = dir.resolve("t.safetensors");
        try (PointerScope scope = new PointerScope(); Device cpu = Tensors.cpu()) {
            Tensor m = Tensors.floats(new float[] {1, 2, 3, 4, 5, 6}, cpu, 2, 3);
            Tensor t = m.t(); // [3,2] view, not contiguous
            new SafetensorsWriter().add("t", t).write(p);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertArrayEquals(new long[] {3, 2}, f.info("t").shape());
                assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, f.readFloats("t"));
            }
        }
    }

    @Test
    void write_metadataAndEscapedNames_roundTrip() throws IOException {
        Path p = dir.resolve("meta.safetensors");
        String odd = "we\"ird\\name\n\u00e9\u4e2d";
        new SafetensorsWriter().metadata("note", "tab\there").metadata("format", "pt")
                .addFloats(odd, new float[] {1}, 1).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of(odd), f.names());
            assertEquals("tab\there", f.metadata().get("note"));
            assertEquals("pt", f.metadata().get("format"));
        }
    }

    @Test
    void add_duplicateName_throwsIllegalArgument() {
        SafetensorsWriter w = new SafetensorsWriter().addFloats("x", new float[] {1}, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.addLongs("x", new long[] {1}, 1));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
    }

    @Test
    void addFloats_shapeNotMatchingData_throwsIllegalArgument() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SafetensorsWriter().addFloats("w", new float[5], 2, 3));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void addLongs_negativeDimension_throwsIllegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter().addLongs("n", new long[0], -1, 0));
    }

    @Test
    void addBytes_partialElement_throwsIllegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter().addBytes("h", DType.F16, new byte[3], 1));
    }

    @Test
    void add_reservedMetadataName_throwsIllegalArgument() {
        assertThrows(IllegalArgumentException.class,
                () -> new SafetensorsWriter().addFloats("__metadata__", new float[] {1}, 1));
    }

    @Test
    void write_tensorClosedBeforeWrite_failsAndLeavesOldFileByteIdentical() throws IOException {
        Path p = dir.resolve("model.safetensors");
        new SafetensorsWriter().addFloats("old", new float[] {1, 2, 3}, 3).write(p);
        byte[] before = Files.readAllBytes(p);

        SafetensorsWriter w = new SafetensorsWriter().addFloats("first", new float[1 << 16], 1 << 16);
        try (Device cpu = Tensors.cpu()) {
            Tensor flag = Tensors.floats(new float[] {1}, cpu, 1);
            Tensor b = flag.to(ScalarType.Bool); // BOOL is written last, after 256 KiB of F32
            w.add("flag", b);
            b.close();
            flag.close();
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.write(p));
        assertTrue(e.getMessage().contains("'flag'"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p), "target must be untouched");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList(), "no temporary file left behind");
        }
    }

    @Test
    void write_missingDirectory_throwsAndCreatesNothing() {
        Path p = dir.resolve("no/such/dir/x.safetensors");
        assertThrows(IOException.class, () -> new SafetensorsWriter().addFloats("a", new float[] {1}, 1).write(p));
        assertTrue(!Files.exists(p));
    }

    @Test
    void write_overExistingFile_replacesIt() throws IOException {
        Path p = dir.resolve("m.safetensors");
        new SafetensorsWriter().addFloats("a", new float[] {1}, 1).write(p);
        new SafetensorsWriter().addFloats("b", new float[] {2, 3}, 2).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("b"), f.names());
            assertTrue(Arrays.equals(new float[] {2, 3}, f.readFloats("b")));
        }
    }

    private static long headerLength(Path p) throws IOException {
        byte[] b = Arrays.copyOf(Files.readAllBytes(p), 8);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void addFloats_moreBytesThanOneArrayHolds_refusedNamingTheTensor() {
        // the size check of addFloats/addLongs, without allocating the 2.4 GB it refuses
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.arrayBytes("big.weight", 600_000_000, DType.F32));
        assertTrue(e.getMessage().startsWith("tensor 'big.weight': 600000000 F32 values") && e.getMessage()
                .contains("2400000000 bytes"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.arrayBytes("ids", 300_000_000, DType.I64));
        assertTrue(e2.getMessage().startsWith("tensor 'ids': 300000000 I64 values"), e2.getMessage());
        assertEquals(24, SafetensorsWriter.arrayBytes("small", 6, DType.F32));
        assertEquals(Integer.MAX_VALUE - 8 - 7, SafetensorsWriter.arrayBytes("edge", (Integer.MAX_VALUE - 8) / 8,
                DType.I64));
    }
}
