package dev.refact.spark;

import static dev.refact.spark.SparkEvalTest.MODEL;
import static dev.refact.spark.SparkEvalTest.ROAD;
import static dev.refact.spark.SparkEvalTest.TOKENIZER;
import static dev.refact.spark.SparkEvalTest.assertSameResults;
import static dev.refact.spark.SparkEvalTest.refact;
import static dev.refact.spark.SparkEvalTest.spark;
import static dev.refact.spark.SparkEvalTest.with;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/refact-spark} on Spark's {@code local-cluster[2,1,1024]}: a standalone master, a worker and two
 * executors, each its own JVM (as on a real cluster, unlike {@code local[N]}, where tasks run as threads of the
 * driver). So the recipe, the cells and the results really cross process boundaries, and the executors have their
 * own statistics cache: without {@code --stats} they must read the statistics the driver shipped (their cache stays
 * empty), and the results equal {@code bin/refact}'s on one machine.
 */
@Tag("slow")
final class SparkClusterTest {
    @TempDir
    static Path tmp;

    /**
     * Spark starts executor JVMs through its launcher, which takes their class path from {@code SPARK_HOME/jars}:
     * a Spark home made of links to this test's jars (its class folders go through
     * {@code spark.executor.extraClassPath}).
     */
    static String classFolders;

    @BeforeAll
    static void sparkHome() throws IOException {
        Path home = tmp.resolve("spark-home");
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("launcher/target/scala-2.13")); // the launcher looks for it
        StringBuilder dirs = new StringBuilder();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : cp.split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p)) {
                dirs.append(dirs.length() > 0 ? File.pathSeparator : "").append(p);
            } else if (Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
            }
        }
        classFolders = dirs.toString();
        System.setProperty("spark.test.home", home.toString());   // the local worker's SPARK_HOME
        System.setProperty("spark.testing", "true");
    }

    @AfterAll
    static void clear() {
        System.clearProperty("spark.test.home");
        System.clearProperty("spark.testing");
        System.clearProperty("refact.cache");
    }

    @Test
    void evalTextWithoutStats_twoExecutorJvms_readTheShippedStatistics_sameResultsAsOneMachine()
            throws IOException, InterruptedException {
        System.setProperty("refact.cache", tmp.resolve("driver-cache").toString());
        Path executorCache = tmp.resolve("executor-cache");
        Path one = tmp.resolve("one");
        Path cluster = tmp.resolve("cluster");
        List<String> common = List.of("eval-text", "--model", MODEL, "--tokenizer", TOKENIZER, "--dataset", ROAD,
                "--layer", "1", "--steps", "5", "--num-contrastive", "2", "--rows", "0..3");
        String[] a = refact(with(common, "--out", one.toString()));
        assertEquals("0", a[0], a[2]);

        // The context refact-spark finds (SparkContext.getOrCreate) and stops when it is done.
        SparkContext context = new SparkContext(new SparkConf().setMaster("local-cluster[2,1,1024]")
                .setAppName("SparkClusterTest").set("spark.ui.enabled", "false")
                .set("spark.executor.extraClassPath", classFolders)
                .set("spark.executorEnv.REFACT_CACHE", executorCache.toString()));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (context.getExecutorMemoryStatus().size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(3, context.getExecutorMemoryStatus().size(), "driver + 2 executor JVMs");
        String[] b = spark(with(common, "--out", cluster.toString()));
        assertTrue(context.isStopped(), "refact-spark stops the context when done");
        assertEquals("0", b[0], b[2]);
        assertTrue(b[2].contains("refact: spark: statistics of layer 1 shipped to the executors: "
                + tmp.resolve("driver-cache").resolve("stats")), b[2]);
        assertTrue(b[2].contains("refact: spark: 4/4 cells of this job done"), b[2]);
        assertSameResults(one.resolve("results.jsonl"), cluster.resolve("results.jsonl"), 4);
        boolean computed;
        try (Stream<Path> s = Files.exists(executorCache) ? Files.walk(executorCache) : Stream.empty()) {
            computed = s.anyMatch(f -> f.toString().endsWith(".safetensors"));
        }
        assertFalse(computed, "an executor computed statistics into its own cache " + executorCache);
    }
}
