package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NPZ archives laid out like ROME's covariance statistics, stored and deflated. */
final class NpzTest {
    private static final int D = 16;

    @TempDir
    Path dir;

    /** Writes a zip of raw entries; {@code stored} picks STORED (np.savez) or DEFLATED (savez_compressed). */
    private Path zip(String name, Map<String, byte[]> entries, boolean stored) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (stored) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return p;
    }

    private static Map<String, byte[]> romeStats(float[] mom2) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("constructor.npy", TestFiles.npy(1, "{'descr': '<U34', 'fortran_order': False, 'shape': (), }",
                new byte[34 * 4]));
        m.put("mom2.constructor.npy", TestFiles.npy(1, "{'descr': '<U39', 'fortran_order': False, 'shape': (), }",
                new byte[39 * 4]));
        m.put("mom2.count.npy", TestFiles.npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100000).array()));
        m.put("mom2.mom2.npy", TestFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (" + D + ", " + D
                + "), }", TestFiles.floatsLE(mom2)));
        return m;
    }

    private static float[] symmetric() {
        float[] m = new float[D * D];
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                m[i * D + j] = (i + 1) * (j + 1) + (i == j ? 0.5f : 0);
            }
        }
        return m;
    }

    @Test
    void open_storedRomeStats_readsMom2AndCount() throws IOException {
        float[] mom2 = symmetric();
        try (Npz z = Npz.open(zip("stats.npz", romeStats(mom2), true))) {
            assertEquals(List.of("constructor", "mom2.constructor", "mom2.count", "mom2.mom2"), z.names());
            NpyArray m = z.get("mom2.mom2");
            assertEquals(DType.F32, m.dtype());
            assertArrayEquals(new long[] {D, D}, m.shape());
            assertArrayEquals(mom2, m.toFloats());
            assertEquals(100000L, z.get("mom2.count").toLongs()[0]);
        }
    }

    @Test
    void open_deflatedRomeStats_readsMom2() throws IOException {
        float[] mom2 = symmetric();
        try (Npz z = Npz.open(zip("stats_c.npz", romeStats(mom2), false))) {
            assertArrayEquals(mom2, z.get("mom2.mom2").toFloats());
            assertTrue(z.contains("mom2.count"));
        }
    }

    @Test
    void get_stringEntry_throwsUnsupportedNamingEntry() throws IOException {
        Path p = zip("stats.npz", romeStats(symmetric()), true);
        try (Npz z = Npz.open(p)) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> z.get("mom2.constructor"));
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("'mom2.constructor'"),
                    e.getMessage());
        }
    }

    @Test
    void get_absentName_throwsListingCloseNames() throws IOException {
        try (Npz z = Npz.open(zip("stats.npz", romeStats(symmetric()), true))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> z.get("mom2.mom3"));
            assertTrue(e.getMessage().contains("'mom2.mom2'"), e.getMessage());
        }
    }

    @Test
    void get_entryWithLyingShape_throwsWithoutAllocating() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("big.npy", TestFiles.npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (50000, 50000), }",
                new byte[64]));
        for (boolean stored : new boolean[] {true, false}) {
            Path p = zip("lie" + stored + ".npz", m, stored);
            try (Npz z = Npz.open(p)) {
                CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> z.get("big"));
                assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("20000000000 bytes"),
                        e.getMessage());
            }
        }
    }

    @Test
    void get_objectArrayEntry_refusedMentioningPickle() throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("data_shape.npy", TestFiles.npy(1, "{'descr': '|O', 'fortran_order': False, 'shape': (), }", new byte[20]));
        try (Npz z = Npz.open(zip("obj.npz", m, true))) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> z.get("data_shape"));
            assertTrue(e.getMessage().contains("pickle"), e.getMessage());
        }
    }

    @Test
    void open_notAZip_throwsNamingFile() throws IOException {
        Path p = TestFiles.write(dir, "junk.npz", "this is not a zip archive at all".getBytes());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> Npz.open(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }

    @Test
    void open_truncatedZip_throwsNamingFile() throws IOException {
        Path full = zip("full.npz", romeStats(symmetric()), false);
        byte[] b = Files.readAllBytes(full);
        Path p = TestFiles.write(dir, "cut.npz", java.util.Arrays.copyOf(b, b.length / 2));
        assertThrows(CheckpointFormatException.class, () -> Npz.open(p));
    }

    @Test
    void get_afterClose_throwsIllegalState() throws IOException {
        Npz z = Npz.open(zip("stats.npz", romeStats(symmetric()), true));
        z.close();
        assertThrows(IllegalStateException.class, () -> z.get("mom2.mom2"));
    }
}
