package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NPY files built byte by byte in the test, read back; every malformed variant is refused clearly. */
final class NpyTest {
    @TempDir
    Path dir;

    private Path npy(String name, int major, String dict, byte[] data) throws IOException {
        return TestFiles.write(dir, name + ".npy", TestFiles.npy(major, dict, data));
    }

    private static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    }

    private static byte[] bytes(ByteOrder order, int size, double... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * size).order(order);
        for (double x : v) {
            switch (size) {
                case 4 -> b.putFloat((float) x);
                case 8 -> b.putDouble(x);
                default -> throw new AssertionError();
            }
        }
        return b.array();
    }

    private String failure(Path p) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void read_v1LittleEndianF4_returnsValuesAndShape() throws IOException {
        Path p = npy("m", 1, dict("<f4", false, "(2, 3)"), TestFiles.floatsLE(1, 2, 3, 4, 5, 6));
        NpyArray a = Npy.read(p);
        assertEquals("m", a.name());
        assertEquals(DType.F32, a.dtype());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.toFloats());
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, a.toDoubles());
    }

    @Test
    void read_v2AndV3Headers_readTheSameArray() throws IOException {
        byte[] data = bytes(ByteOrder.LITTLE_ENDIAN, 8, 0.5, -1.25);
        for (int major : new int[] {2, 3}) {
            NpyArray a = Npy.read(npy("v" + major, major, dict("<f8", false, "(2,)"), data));
            assertEquals(DType.F64, a.dtype());
            assertArrayEquals(new double[] {0.5, -1.25}, a.toDoubles(), "v" + major);
        }
    }

    @Test
    void read_fortranOrder2d_returnsRowMajor() throws IOException {
        // [[1,2,3],[4,5,6]] stored column by column
        NpyArray a = Npy.read(npy("f", 1, dict("<f4", true, "(2, 3)"), TestFiles.floatsLE(1, 4, 2, 5, 3, 6)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.toFloats());
    }

    @Test
    void read_fortranOrder3d_returnsRowMajor() throws IOException {
        int d0 = 2, d1 = 3, d2 = 4;
        float[] fortran = new float[d0 * d1 * d2];
        float[] c = new float[fortran.length];
        for (int i = 0; i < d0; i++) {
            for (int j = 0; j < d1; j++) {
                for (int k = 0; k < d2; k++) {
                    float v = 100 * i + 10 * j + k;
                    fortran[i + d0 * (j + d1 * k)] = v;
                    c[(i * d1 + j) * d2 + k] = v;
                }
            }
        }
        NpyArray a = Npy.read(npy("f3", 1, dict("<f4", true, "(2, 3, 4)"), TestFiles.floatsLE(fortran)));
        assertArrayEquals(c, a.toFloats());
    }

    @Test
    void read_bigEndianF8AndI4_convertsToNativeValues() throws IOException {
        NpyArray d = Npy.read(npy("be", 1, dict(">f8", false, "(3,)"), bytes(ByteOrder.BIG_ENDIAN, 8, 1.5, -2, 1e-300)));
        assertArrayEquals(new double[] {1.5, -2, 1e-300}, d.toDoubles());
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putInt(-7).putInt(65536);
        NpyArray i = Npy.read(npy("bi", 1, dict(">i4", false, "(2,)"), b.array()));
        assertEquals(DType.I32, i.dtype());
        assertArrayEquals(new long[] {-7, 65536}, i.toLongs());
    }

    @Test
    void read_integerAndBoolDtypes_returnLongs() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE).putLong(42);
        assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, Npy.read(npy("l", 1, dict("<i8", false, "(2,)"), b.array())).toLongs());
        assertArrayEquals(new long[] {0, 255, 7},
                Npy.read(npy("u", 1, dict("|u1", false, "(3,)"), new byte[] {0, (byte) 255, 7})).toLongs());
        NpyArray bool = Npy.read(npy("b", 1, dict("|b1", false, "(3,)"), new byte[] {1, 0, 1}));
        assertEquals(DType.BOOL, bool.dtype());
        assertArrayEquals(new long[] {1, 0, 1}, bool.toLongs());
        assertArrayEquals(new double[] {1, 0, 1}, bool.toDoubles());
    }

    @Test
    void read_f2_convertsLikeTorch() throws IOException {
        NpyArray h = Npy.read(npy("h", 1, dict("<f2", false, "(3,)"), TestFiles.shortsLE(0x3C00, 0x0001, 0xFC00)));
        assertArrayEquals(new float[] {1f, 0x1p-24f, Float.NEGATIVE_INFINITY}, h.toFloats());
    }

    @Test
    void read_scalarShape_returnsOneElement() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100000);
        NpyArray count = Npy.read(npy("count", 1, dict("<i8", false, "()"), b.array()));
        assertArrayEquals(new long[0], count.shape());
        assertEquals(1, count.numel());
        assertEquals(100000L, count.toLongs()[0]);
    }

    @Test
    void toLongs_floatArray_throwsIllegalArgument() throws IOException {
        NpyArray a = Npy.read(npy("m", 1, dict("<f4", false, "(1,)"), TestFiles.floatsLE(1)));
        assertThrows(IllegalArgumentException.class, a::toLongs);
    }

    @Test
    void read_objectArray_refusedMentioningPickle() throws IOException {
        String m = failure(npy("obj", 1, dict("|O", false, "(1,)"), new byte[8]));
        assertTrue(m.contains("pickle") && m.contains("'|O'") && m.contains("obj"), m);
    }

    @Test
    void read_truncatedData_throwsNamingArray() throws IOException {
        String m = failure(npy("t", 1, dict("<f4", false, "(2, 3)"), TestFiles.floatsLE(1, 2, 3, 4, 5)));
        assertTrue(m.contains("tensor 't'") && m.contains("24 bytes") && m.contains("20 bytes"), m);
    }

    @Test
    void read_truncatedHeader_throws() throws IOException {
        byte[] full = TestFiles.npy(1, dict("<f4", false, "(2,)"), TestFiles.floatsLE(1, 2));
        Path p = TestFiles.write(dir, "th.npy", Arrays.copyOf(full, 30));
        assertTrue(failure(p).contains("header length"));
        Path q = TestFiles.write(dir, "tm.npy", Arrays.copyOf(full, 7));
        assertTrue(failure(q).contains("truncated"));
    }

    @Test
    void read_lyingHugeShape_throwsWithoutAllocating() throws IOException {
        String m = failure(npy("huge", 1, dict("<f8", false, "(100000, 100000)"), new byte[16]));
        assertTrue(m.contains("80000000000 bytes") && m.contains("truncated"), m);
        String o = failure(npy("ovf", 1, dict("<f8", false, "(4611686018427387904, 4)"), new byte[16]));
        assertTrue(o.contains("overflows"), o);
    }

    @Test
    void read_hugeV2HeaderLength_throwsWithoutAllocating() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 2).put((byte) 0);
        b.putInt(-1); // 4 294 967 295
        String m = failure(TestFiles.write(dir, "hh.npy", b.array()));
        assertTrue(m.contains("4294967295"), m);
    }

    @Test
    void read_badMagic_throws() throws IOException {
        byte[] b = TestFiles.npy(1, dict("<f4", false, "(1,)"), TestFiles.floatsLE(1));
        b[1] = 'X';
        assertTrue(failure(TestFiles.write(dir, "bm.npy", b)).contains("bad magic"));
    }

    @Test
    void read_unsupportedVersion_throws() throws IOException {
        byte[] b = TestFiles.npy(1, dict("<f4", false, "(1,)"), TestFiles.floatsLE(1));
        b[6] = 9;
        assertTrue(failure(TestFiles.write(dir, "ver.npy", b)).contains("version 9.0"));
    }

    @Test
    void read_unicodeStringArray_refusedAsUnsupported() throws IOException {
        String m = failure(npy("constructor", 1, dict("<U10", false, "()"), new byte[40]));
        assertTrue(m.contains("'<U10'") && m.contains("unsupported"), m);
    }

    @Test
    void read_structuredDescr_refused() throws IOException {
        String m = failure(npy("rec", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new byte[4]));
        assertTrue(m.contains("structured"), m);
    }

    @Test
    void read_malformedDict_throws() throws IOException {
        assertTrue(failure(npy("md", 1, "{'descr': '<f4', 'fortran_order': Fals", new byte[4])).contains("malformed NPY header"));
        assertTrue(failure(npy("nd", 1, "['descr']", new byte[4])).contains("not a dict"));
    }

    @Test
    void read_negativeShape_throws() throws IOException {
        assertTrue(failure(npy("neg", 1, dict("<f4", false, "(-1, 2)"), new byte[8])).contains("non-negative"));
    }

    @Test
    void read_missingFortranOrder_throws() throws IOException {
        assertTrue(failure(npy("mf", 1, "{'descr': '<f4', 'shape': (1,), }", new byte[4])).contains("fortran_order"));
    }
}
