package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class StatisticsCacheTest {
    @TempDir
    Path dir;

    @Test
    void getOrCompute_fourThreadsAtOnce_computeOnce_allReadTheSameEntry() throws Exception {
        ClipTokenizer tok = StatsFixtures.tokenizer();
        StatisticsCache cache = new StatisticsCache(dir.resolve("stats"));
        StatsOptions options = StatsOptions.builder().sampleLimit(40).corpusName("prompts").build();
        AtomicInteger computations = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (ClipTextModel model = StatsFixtures.model()) {
            List<Future<double[]>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try (CovarianceStats s = cache.getOrCompute(model, tok, 1, () -> {
                        computations.incrementAndGet();
                        return StatsFixtures.prompts();
                    }, options, StatsListener.NONE)) {
                        return StatsFixtures.doubles(s);
                    }
                }));
            }
            start.countDown();
            double[] first = results.get(0).get();
            for (Future<double[]> r : results) {
                assertArrayEquals(first, r.get(), "every caller reads the one computed entry");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, computations.get(), "computed once, the other callers waited for it");
        try (var files = Files.list(dir.resolve("stats"))) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith("-layer1-prompts-40.safetensors")));
        }
    }

    @Test
    void getOrCompute_anotherProcessHoldsTheEntry_waitsForIt() throws Exception {
        ClipTokenizer tok = StatsFixtures.tokenizer();
        StatisticsCache cache = new StatisticsCache(dir.resolve("stats"));
        StatsOptions options = StatsOptions.builder().sampleLimit(40).corpusName("prompts").build();
        try (ClipTextModel model = StatsFixtures.model()) {
            Path entry = cache.fileFor(model.fingerprint(), 1, "prompts", 40).toAbsolutePath().normalize();
            Files.createDirectories(entry.getParent());
            Path lockFile = entry.resolveSibling(entry.getFileName() + ".lock");
            Process other = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(), lockFile.toString(), "2000")
                    .redirectErrorStream(true).start();
            try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(
                    other.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
                assertEquals("locked", out.readLine(), "the other process holds the entry's lock");
                long t0 = System.nanoTime();
                try (CovarianceStats s = cache.getOrCompute(model, tok, 1, StatsFixtures::prompts, options,
                        StatsListener.NONE)) {
                    double waited = (System.nanoTime() - t0) / 1e9;
                    assertTrue(waited > 1.0, "waited for the other process's lock: " + waited + " s");
                    assertEquals(1, s.layer());
                }
            } finally {
                other.destroy();
                other.waitFor();
            }
        }
    }
}
