package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CovarianceStatsFileTest {
    private static final int DIM = 6;
    static org.bytedeco.pytorch.Device CPU;

    @TempDir
    Path dir;

    @BeforeAll
    static void runtime() {
        TorchRuntime.ensureLoaded();
        CPU = Tensors.cpu();
    }

    /** A random symmetric positive definite matrix A Aᵀ / n, with values that are not round in binary. */
    static double[] spd(int dim, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[dim * dim];
        for (int k = 0; k < a.length; k++) {
            a[k] = r.nextGaussian();
        }
        double[] c = new double[dim * dim];
        for (int i = 0; i < dim; i++) {
            for (int j = 0; j < dim; j++) {
                double s = 0;
                for (int k = 0; k < dim; k++) {
                    s += a[i * dim + k] * a[j * dim + k];
                }
                c[i * dim + j] = s / 3.0;
            }
        }
        for (int i = 0; i < dim; i++) {       // exact symmetry
            for (int j = 0; j < i; j++) {
                c[i * dim + j] = c[j * dim + i];
            }
        }
        return c;
    }

    static CovarianceStats stats(double[] c, int dim, StatsProvenance p) {
        try (Tensor t = Tensors.doubles(c, CPU, dim, dim)) {
            return CovarianceStats.fromMatrix(t, p.layer(), p.count(), p, CPU);
        }
    }

    private static final StatsProvenance PROV = new StatsProvenance("f1ngerprint", 7, "wiki.txt",
            "ab".repeat(32), 12345, "float64", 100, 60);

    @Test
    void saveLoad_roundTrip_bitExactWithProvenance() throws Exception {
        double[] c = spd(DIM, 1);
        Path f = dir.resolve("layer7.safetensors");
        try (CovarianceStats s = stats(c, DIM, PROV)) {
            s.save(f);
        }
        try (CovarianceStats back = CovarianceStats.load(f)) {
            assertArrayEquals(c, StatsFixtures.doubles(back));
            assertEquals(PROV, back.provenance());
            assertEquals(7, back.layer());
            assertEquals(12345, back.count());
            assertEquals(0.0, back.damping());
        }
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            Map<String, String> md = sf.metadata();
            assertEquals("covariance", md.get("refact.kind"));
            assertEquals("7", md.get("refact.layer"));
            assertEquals("12345", md.get("refact.count"));
            assertEquals("wiki.txt", md.get("refact.corpus"));
            assertEquals("f1ngerprint", md.get("refact.model_fingerprint"));
            assertEquals("float64", md.get("refact.dtype"));
            assertTrue(md.containsKey("refact.library_version"));
            assertEquals("F64", sf.info("mom2").dtype().name());
        }
    }

    @Test
    void load_missingFile_throwsNoSuchFileNamingIt() {
        Path f = dir.resolve("absent.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> CovarianceStats.load(f));
        assertTrue(e.getMessage().contains("absent.safetensors"), e.getMessage());
    }

    @Test
    void load_truncatedFile_throwsFormatErrorNamingFile() throws Exception {
        Path f = dir.resolve("stats.safetensors");
        try (CovarianceStats s = stats(spd(DIM, 2), DIM, PROV)) {
            s.save(f);
        }
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 9));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CovarianceStats.load(f));
        assertTrue(e.getMessage().contains("stats.safetensors"), e.getMessage());
        Files.write(f, new byte[] {1, 2, 3});
        assertThrows(CheckpointFormatException.class, () -> CovarianceStats.load(f));
    }

    @Test
    void load_otherKindOfFile_throws() throws Exception {
        Path f = dir.resolve("weights.safetensors");
        new SafetensorsWriter().addFloats("mom2", new float[] {1, 0, 0, 1}, 2, 2).write(f);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CovarianceStats.load(f));
        assertTrue(e.getMessage().contains("not a covariance statistics file"), e.getMessage());
    }

    @Test
    void load_badContents_throwNamingTheProblem() throws Exception {
        double[] asym = spd(DIM, 3);
        asym[1] += 0.5;
        assertLoadFails(asym, DIM, DIM, "not symmetric");
        double[] nan = spd(DIM, 4);
        nan[7] = Double.NaN;
        assertLoadFails(nan, DIM, DIM, "non-finite");
        assertLoadFails(new double[6], 2, 3, "square");
    }

    private void assertLoadFails(double[] values, int rows, int cols, String expected) throws Exception {
        Path f = dir.resolve("bad-" + expected.replace(' ', '-') + ".safetensors");
        try (Tensor t = Tensors.doubles(values, CPU, rows, cols)) {
            StatsFile.write(f, t, PROV);
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CovarianceStats.load(f));
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains(f.getFileName().toString()),
                e.getMessage());
    }

    @Test
    void load_missingMetadata_throws() throws Exception {
        Path f = dir.resolve("nolayer.safetensors");
        try (Tensor t = Tensors.doubles(spd(2, 5), CPU, 2, 2)) {
            new SafetensorsWriter().metadata("refact.kind", "covariance").metadata("refact.count", "3")
                    .add("mom2", t).write(f);
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> CovarianceStats.load(f));
        assertTrue(e.getMessage().contains("refact.layer"), e.getMessage());
    }

    @Test
    void save_writeFailsHalfway_leavesOldFileIntactAndNoTemporaryFile() throws Exception {
        Path f = dir.resolve("stats.safetensors");
        try (CovarianceStats s = stats(spd(DIM, 6), DIM, PROV)) {
            s.save(f);
        }
        byte[] before = Files.readAllBytes(f);
        // the writer is prepared (header computed), then the tensor is freed: writing its data fails mid-file
        Tensor doomed = Tensors.doubles(spd(DIM, 7), CPU, DIM, DIM);
        SafetensorsWriter w = StatsFile.writer(doomed, PROV);
        doomed.close();
        assertThrows(RuntimeException.class, () -> w.write(f));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        try (CovarianceStats back = CovarianceStats.load(f)) {
            assertEquals(PROV, back.provenance());
        }
    }

    @Test
    void save_closedStats_throws() {
        CovarianceStats s = stats(spd(DIM, 8), DIM, PROV);
        s.close();
        assertThrows(IllegalStateException.class, () -> s.save(dir.resolve("x.safetensors")));
    }

    @Test
    void fromMatrix_layerDisagreesWithProvenance_refused() {
        try (Tensor t = Tensors.doubles(spd(DIM, 5), CPU, DIM, DIM)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CovarianceStats.fromMatrix(t, 3, PROV.count(), PROV, CPU));
            assertTrue(e.getMessage().contains("layer 3") && e.getMessage().contains("layer 7"), e.getMessage());
        }
    }
}
