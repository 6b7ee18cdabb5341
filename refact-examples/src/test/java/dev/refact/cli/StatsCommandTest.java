package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.Corpora;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class StatsCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    static Path model() {
        return SharedData.resolve("models/tiny-random-clip-text");
    }

    static Path tokenizer() {
        return SharedData.resolve("clip-tokenizer");
    }

    /** The prompt columns of the TIME validation CSV, one per line. */
    Path corpus() throws Exception {
        List<String> lines = Files.readAllLines(SharedData.resolve("refact/time/TIMED_test_set.csv"),
                StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            texts.add(line.split(",")[0]);
            texts.add("");
        }
        return Files.write(dir.resolve("corpus.txt"), texts, StandardCharsets.UTF_8);
    }

    @Test
    void stats_corpusFile_writesStatsEqualToLibraryAndPrintsJson() throws Exception {
        Path corpus = corpus();
        Path out = dir.resolve("layer1.safetensors");
        Run r = run("stats", "--model", model().toString(), "--tokenizer", tokenizer().toString(), "--layer", "1",
                "--corpus", corpus.toString(), "--out", out.toString(), "--samples", "100", "--batch", "16",
                "--max-tokens", "20", "--checkpoint-every", "32");
        assertEquals(0, r.code(), r.err());
        JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(1, json.get("layer").getAsInt());
        assertEquals(100, json.get("texts").getAsLong());
        assertEquals(20, json.get("max_tokens").getAsInt());
        assertEquals("corpus.txt", json.get("corpus").getAsString());
        assertEquals(64, json.get("corpus_sha256").getAsString().length());
        assertTrue(json.get("tokens_per_second").getAsDouble() > 0);
        assertTrue(json.has("seconds"));
        assertTrue(r.err().contains("tokens/s"), r.err());
        assertFalse(Files.exists(dir.resolve("layer1.safetensors.partial")), "checkpoint removed at the end");
        try (ClipTextModel m = ClipTextModel.load(model());
             CovarianceStats expected = CovarianceStats.compute(m, ClipTokenizer.load(tokenizer()), 1,
                     Corpora.lines(corpus), StatsOptions.builder().sampleLimit(100).batchSize(16).maxTokens(20)
                             .corpusName("corpus.txt").build(), null);
             CovarianceStats written = CovarianceStats.load(out)) {
            assertArrayEquals(Tensors.toDoubles(expected.matrix()), Tensors.toDoubles(written.matrix()));
            assertEquals(expected.provenance(), written.provenance());
            assertEquals(json.get("count").getAsLong(), written.count());
        }
    }

    @Test
    void stats_builtInCorpus_isTheDefault() throws Exception {
        Path out = dir.resolve("wordnet.safetensors");
        Run r = run("stats", "--model", model().toString(), "--tokenizer", tokenizer().toString(), "--layer", "0",
                "--out", out.toString(), "--samples", "40");
        assertEquals(0, r.code(), r.err());
        JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(Corpora.WORDNET, json.get("corpus").getAsString());
        assertEquals(40, json.get("texts").getAsLong());
    }

    @Test
    void stats_importNpz_writesMeanStats() throws Exception {
        // a ROME-layout npz built by the core tests' recipe: identity sums × 4, count 2 → C = 2·I
        int d = 128;
        float[] sums = new float[d * d];
        for (int i = 0; i < d; i++) {
            sums[i * d + i] = 4f;
        }
        Path npz = NpzFiles.rome(dir.resolve("mom2.npz"), sums, d, 2);
        Path out = dir.resolve("imported.safetensors");
        Run r = run("stats", "--import", npz.toString(), "--model", model().toString(), "--layer", "1",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals("imported:mom2.npz", json.get("corpus").getAsString());
        assertEquals(2, json.get("count").getAsLong());
        try (CovarianceStats s = CovarianceStats.load(out)) {
            double[] c = Tensors.toDoubles(s.matrix());
            assertEquals(2.0, c[0]);
            assertEquals(0.0, c[1]);
            assertEquals(2.0, c[d * d - 1]);
        }
    }

    @Test
    void stats_badArguments_failWithOneLineMessages() throws Exception {
        Path out = dir.resolve("x.safetensors");
        Run both = run("stats", "--model", model().toString(), "--layer", "1", "--out", out.toString(),
                "--corpus", "a.txt", "--import", "b.npz");
        assertEquals(2, both.code());
        assertTrue(both.err().startsWith("refact: use either --corpus or --import"), both.err());

        Run missing = run("stats", "--model", model().toString(), "--tokenizer", tokenizer().toString(),
                "--layer", "1", "--out", out.toString(), "--corpus", dir.resolve("absent.txt").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("refact: ") && missing.err().contains("absent.txt"), missing.err());

        Run layer = run("stats", "--model", model().toString(), "--tokenizer", tokenizer().toString(),
                "--layer", "3", "--out", out.toString(), "--corpus", corpus().toString());
        assertEquals(1, layer.code());
        assertTrue(layer.err().contains("layer 3"), layer.err());

        // no tokenizer folder: the CLIP vocabulary bundled in refact-clip is used, and the user is told
        Path bundledOut = dir.resolve("bundled.safetensors");
        Run noTokenizer = run("stats", "--model", model().toString(), "--layer", "1", "--out", bundledOut.toString(),
                "--corpus", corpus().toString());
        assertEquals(0, noTokenizer.code(), noTokenizer.err());
        assertTrue(noTokenizer.err().contains("bundled CLIP vocabulary"), noTokenizer.err());
        assertTrue(Files.isRegularFile(bundledOut));

        Run badBatch = run("stats", "--model", model().toString(), "--tokenizer", tokenizer().toString(),
                "--layer", "1", "--out", out.toString(), "--corpus", corpus().toString(), "--batch", "0");
        assertEquals(2, badBatch.code());
        assertFalse(Files.exists(out));
    }
}
