package dev.refact.spark;

import static dev.refact.spark.SparkEvalTest.TOKENIZER;
import static dev.refact.spark.SparkEvalTest.cells;
import static dev.refact.spark.SparkEvalTest.refact;
import static dev.refact.spark.SparkEvalTest.refactSpark;
import static dev.refact.spark.SparkEvalTest.summary;
import static dev.refact.spark.SparkEvalTest.with;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refact-spark eval} (images) in {@code local[2]} against {@code refact eval} on the tiny fixtures (tiny SD
 * UNet/VAE, tiny CLIP classifier, 16×16 images, 1 denoising step): the same cells and probabilities, the same
 * saved images (written by the executors) and the grids the driver composes from them. Slow (about a minute on
 * an idle 2-core machine, two minutes under load).
 */
@Tag("slow")
final class SparkImageEvalTest {
    static final String CLASSIFIER = SharedData.resolve("models/tiny-clip-full").toString();
    static final String ROAD = SparkEvalTest.ROAD;

    @TempDir
    static Path fixture;

    @TempDir
    Path tmp;

    static Path sd;
    static Path stats;

    /** A diffusers-layout folder of links to the fixtures (nothing is copied), and layer-1 statistics. */
    @BeforeAll
    static void setUp() throws IOException {
        sd = Files.createDirectories(fixture.resolve("sd"));
        for (String c : List.of("unet", "vae", "scheduler")) {
            Files.createSymbolicLink(sd.resolve(c), SharedData.resolve("models/tiny-sd-pipe/" + c));
        }
        Files.createSymbolicLink(sd.resolve("text_encoder"), SharedData.resolve("models/tiny-random-clip-text"));
        Files.createSymbolicLink(sd.resolve("tokenizer"), SharedData.resolve("clip-tokenizer"));
        SparkEvalTest.writeStats(fixture);
        stats = fixture.resolve("L1.safetensors");
    }

    @Test
    void eval_local2_equalsSingleMachine_cellsImagesGrids() throws IOException {
        List<String> args = List.of("eval", "--model", sd.toString(), "--classifier", CLASSIFIER,
                "--classifier-tokenizer", TOKENIZER, "--dataset", ROAD, "--rows", "0..1", "--seeds", "0,1",
                "--diffusion-steps", "1", "--guidance", "1", "--height", "16", "--width", "16", "--layer", "1",
                "--stats", stats.toString(), "--steps", "2", "--num-contrastive", "2", "--save-images");
        Path one = tmp.resolve("one");
        Path spark = tmp.resolve("spark");
        String[] a = refact(with(args, "--out", one.toString()));
        assertEquals("0", a[0], a[2]);
        String[] b = refactSpark(with(args, "--out", spark.toString()));
        assertEquals("0", b[0], b[2]);

        List<String> x = Files.readAllLines(one.resolve("results.jsonl"));
        List<String> y = Files.readAllLines(spark.resolve("results.jsonl"));
        assertEquals(5, y.size());
        assertEquals(JsonParser.parseString(x.get(0)).getAsJsonObject().get("config"),
                JsonParser.parseString(y.get(0)).getAsJsonObject().get("config"));
        assertEquals(cells(x), cells(y));
        assertEquals(summary(a[1], one), summary(b[1], spark));
        assertEquals(Files.readString(one.resolve("metrics.csv")), Files.readString(spark.resolve("metrics.csv")));

        List<Path> images;
        try (Stream<Path> s = Files.walk(one.resolve("images"))) {
            images = s.filter(Files::isRegularFile).map(one.resolve("images")::relativize).sorted().toList();
        }
        assertTrue(images.size() >= 2 * 2 * 11 + 2, images.toString());   // 11 probes × 2 seeds × 2 rows + grids
        for (Path p : images) {
            assertArrayEquals(Files.readAllBytes(one.resolve("images").resolve(p)),
                    Files.readAllBytes(spark.resolve("images").resolve(p)), p.toString());
        }
    }
}
