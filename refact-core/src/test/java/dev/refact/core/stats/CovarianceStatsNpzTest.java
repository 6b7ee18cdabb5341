package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NPZ files in the layout ROME's {@code layer_stats} writes, built byte by byte here (numpy format 1.0). */
final class CovarianceStatsNpzTest {
    static ClipTextModel model;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        model = StatsFixtures.model();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** An NPY v1.0 file: magic, version, u16 header length, dict padded to 64 bytes with a newline, data. */
    static byte[] npy(String descr, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = (10 + dict.length() + 1 + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) (total - 10)).put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').put(data);
        return b.array();
    }

    static Path npz(Path file, Map<String, byte[]> entries, boolean deflate) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.setMethod(deflate ? ZipOutputStream.DEFLATED : ZipOutputStream.STORED);
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey() + ".npy");
                if (!deflate) {
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(e.getValue());
                    z.setSize(e.getValue().length);
                    z.setCompressedSize(e.getValue().length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            bytes.writeTo(out);
        }
        return file;
    }

    /** Symmetric float32 sums S = A Aᵀ (mirrored so S is exactly symmetric), row-major [d*d]. */
    static float[] sums(int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[d * 2 * d];
        for (int k = 0; k < a.length; k++) {
            a[k] = (float) r.nextGaussian();
        }
        float[] s = new float[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                float v = 0;
                for (int k = 0; k < 2 * d; k++) {
                    v += a[i * 2 * d + k] * a[j * 2 * d + k];
                }
                s[i * d + j] = v;
                s[j * d + i] = v;
            }
        }
        return s;
    }

    static byte[] floatsLE(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    static byte[] longLE(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static Map<String, byte[]> romeEntries(float[] s, int d, long count) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        // ROME also stores the class name as a 0-d unicode string; it must be ignored
        String ctor = "util.runningstats.SecondMoment()";
        ByteBuffer u = ByteBuffer.allocate(ctor.length() * 4).order(ByteOrder.LITTLE_ENDIAN);
        ctor.codePoints().forEach(u::putInt);
        m.put("mom2.constructor", npy("<U" + ctor.length(), "()", u.array()));
        m.put("mom2.count", npy("<i8", "()", longLE(count)));
        m.put("mom2.mom2", npy("<f4", "(" + d + ", " + d + ")", floatsLE(s)));
        return m;
    }

    @Test
    void importNpz_romeLayout_equalsMom2OverCount() throws Exception {
        int d = model.config().intermediateSize();
        float[] s = sums(d, 11);
        long count = 777;
        for (boolean deflate : new boolean[] {false, true}) {
            Path f = npz(dir.resolve("layer1_" + deflate + ".npz"), romeEntries(s, d, count), deflate);
            try (CovarianceStats stats = CovarianceStats.importNpz(f, model, 1)) {
                double[] expected = new double[d * d];
                for (int k = 0; k < expected.length; k++) {
                    expected[k] = (double) s[k] / count;
                }
                assertArrayEquals(expected, StatsFixtures.doubles(stats), "C = mom2 / count, exactly");
                assertEquals(count, stats.count());
                assertEquals(1, stats.layer());
                StatsProvenance p = stats.provenance();
                assertEquals("imported:" + f.getFileName(), p.corpus());
                assertEquals(model.fingerprint(), p.modelFingerprint());
                assertEquals("float32", p.dtype());
                assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(f))), p.corpusSha256());
            }
        }
    }

    @Test
    void importNpz_thenSaveLoad_roundTripsBitExact() throws Exception {
        int d = model.config().intermediateSize();
        Path f = npz(dir.resolve("s.npz"), romeEntries(sums(d, 12), d, 5), false);
        Path out = dir.resolve("s.safetensors");
        try (CovarianceStats stats = CovarianceStats.importNpz(f, model, 2)) {
            stats.save(out);
            try (CovarianceStats back = CovarianceStats.load(out)) {
                assertArrayEquals(StatsFixtures.doubles(stats), StatsFixtures.doubles(back));
                assertEquals(stats.provenance(), back.provenance());
            }
        }
    }

    @Test
    void importNpz_wrongWidth_throwsNamingFileAndWidth() throws Exception {
        Path f = npz(dir.resolve("other-model.npz"), romeEntries(sums(16, 13), 16, 10), false);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> CovarianceStats.importNpz(f, model, 1));
        assertTrue(e.getMessage().contains("other-model.npz") && e.getMessage().contains("128"), e.getMessage());
    }

    @Test
    void importNpz_missingOrBadEntries_throw() throws Exception {
        int d = model.config().intermediateSize();
        Map<String, byte[]> noCount = romeEntries(sums(d, 14), d, 10);
        noCount.remove("mom2.count");
        Path a = npz(dir.resolve("nocount.npz"), noCount, false);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> CovarianceStats.importNpz(a, model, 1));
        assertTrue(e.getMessage().contains("mom2.count"), e.getMessage());

        Path zero = npz(dir.resolve("zero.npz"), romeEntries(sums(d, 15), d, 0), false);
        assertThrows(CheckpointFormatException.class, () -> CovarianceStats.importNpz(zero, model, 1));

        float[] asym = sums(d, 16);
        asym[1] += 100f;
        Path b = npz(dir.resolve("asym.npz"), romeEntries(asym, d, 10), false);
        CheckpointFormatException s = assertThrows(CheckpointFormatException.class,
                () -> CovarianceStats.importNpz(b, model, 1));
        assertTrue(s.getMessage().contains("not symmetric"), s.getMessage());

        Path notZip = Files.write(dir.resolve("garbage.npz"), new byte[] {1, 2, 3, 4});
        assertThrows(IOException.class, () -> CovarianceStats.importNpz(notZip, model, 1));
        assertThrows(IOException.class, () -> CovarianceStats.importNpz(dir.resolve("absent.npz"), model, 1));
        assertThrows(IllegalArgumentException.class, () -> CovarianceStats.importNpz(b, model, 3));
    }

    @Test
    void importNpz_fractionalCount_refusedNamingFile() throws Exception {
        int d = model.config().intermediateSize();
        Map<String, byte[]> entries = romeEntries(sums(d, 17), d, 10);
        entries.put("mom2.count", npy("<f8", "()", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(10.5).array()));
        Path f = npz(dir.resolve("fractional.npz"), entries, false);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> CovarianceStats.importNpz(f, model, 1));
        assertTrue(e.getMessage().contains("fractional.npz") && e.getMessage().contains("mom2.count")
                && e.getMessage().contains("10.5"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        entries.put("mom2.count", npy("<i8", "()", longLE(-3)));
        Path n = npz(dir.resolve("negative.npz"), entries, false);
        e = assertThrows(CheckpointFormatException.class, () -> CovarianceStats.importNpz(n, model, 1));
        assertTrue(e.getMessage().contains("negative.npz") && e.getMessage().contains("-3"), e.getMessage());
        entries.put("mom2.count", npy("<f8", "()", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(12.0).array()));
        Path w = npz(dir.resolve("whole.npz"), entries, false);
        try (CovarianceStats s = CovarianceStats.importNpz(w, model, 1)) {
            assertEquals(12, s.count(), "a whole count stored as float is accepted");
        }
    }
}
