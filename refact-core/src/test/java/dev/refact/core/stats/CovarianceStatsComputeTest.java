package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CovarianceStatsComputeTest {
    static ClipTextModel model;
    static ClipTokenizer tok;
    static List<String> prompts;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        model = StatsFixtures.model();
        tok = StatsFixtures.tokenizer();
        prompts = StatsFixtures.prompts();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static StatsOptions.Builder options() {
        return StatsOptions.builder().corpusName("csv-prompts");
    }

    private static String sha256Lines(List<String> texts) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String t : texts) {
            md.update((t + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void compute_batch1_equalsBruteForceReference() throws Exception {
        List<String> texts = prompts.subList(0, 200);
        long[] n = new long[1];
        double[] expected = StatsFixtures.referenceMean(model, tok, 1, texts, 60, n);
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(1).build(), null)) {
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(s), expected);
            assertTrue(rel < 1e-12, "relative error " + rel);
            assertEquals(n[0], s.count());
            assertEquals(1, s.layer());
            assertEquals(model.config().intermediateSize(), s.dim());
        }
    }

    @Test
    void compute_batch7_equalsReferenceOverTheSamePaddedBatches() throws Exception {
        // same float32 keys (same batch shapes): checks masking and float64 accumulation exactly
        List<String> texts = prompts.subList(0, 200);
        long[] n = new long[1];
        double[] expected = StatsFixtures.referenceMean(model, tok, 1, texts, 60, 7, n);
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(7).build(), null)) {
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(s), expected);
            assertTrue(rel < 1e-12, "relative error " + rel);
            assertEquals(n[0], s.count());
        }
    }

    @Test
    void compute_batch32_equalsBruteForceToFloat32Precision() throws Exception {
        // padding a text to a longer batch changes its float32 keys by rounding only (attention reductions over a
        // longer, masked row: ~1e-6 absolute in the keys, 8e-8 relative in C measured), never by content
        List<String> texts = prompts.subList(0, 200);
        long[] n = new long[1];
        double[] expected = StatsFixtures.referenceMean(model, tok, 1, texts, 60, n);
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 1, texts, options().build(), null)) {
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(s), expected);
            assertTrue(rel < 1e-6, "relative error " + rel);
            assertEquals(n[0], s.count());
        }
    }

    @Test
    void compute_longLinesCutTo12Tokens_equalsBruteForceReference() throws Exception {
        // whole CSV rows are long (up to ~150 tokens): the cut keeps start, the first 10 BPE ids and the end token
        Path csv = dev.refact.clip.testing.SharedData.resolve("refact/road/RoAD_validation.csv");
        List<String> rows = Files.readAllLines(csv, StandardCharsets.UTF_8);
        long[] n = new long[1];
        double[] expected = StatsFixtures.referenceMean(model, tok, 2, rows, 12, 4, n);
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 2, Corpora.lines(csv),
                options().maxTokens(12).batchSize(4).build(), null)) {
            assertTrue(StatsFixtures.relativeError(StatsFixtures.doubles(s), expected) < 1e-12);
            assertEquals(12L * rows.size(), s.count(), "every row is longer than 12 tokens");
        }
    }

    @Test
    void compute_batch1VsBatch7_sameResultToFloat32Precision() throws Exception {
        List<String> texts = prompts.subList(0, 50);
        try (CovarianceStats one = CovarianceStats.compute(model, tok, 0, texts, options().batchSize(1).build(), null);
             CovarianceStats seven = CovarianceStats.compute(model, tok, 0, texts, options().batchSize(7).build(),
                     null)) {
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(seven), StatsFixtures.doubles(one));
            assertTrue(rel < 1e-6, "batch 7 vs batch 1: relative difference " + rel);
            assertEquals(one.count(), seven.count());
            assertEquals(one.provenance(), seven.provenance());
        }
    }

    @Test
    void compute_sameInputsTwice_bitIdentical() throws Exception {
        List<String> texts = prompts.subList(0, 40);
        try (CovarianceStats a = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(8).build(), null);
             CovarianceStats b = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(8).build(), null)) {
            assertArrayEquals(StatsFixtures.doubles(a), StatsFixtures.doubles(b));
        }
    }

    @Test
    void compute_sampleLimit_usesOnlyFirstTexts() throws Exception {
        List<String> texts = prompts.subList(0, 60);
        try (CovarianceStats limited = CovarianceStats.compute(model, tok, 1, texts,
                options().sampleLimit(25).batchSize(4).build(), null);
             CovarianceStats first = CovarianceStats.compute(model, tok, 1, texts.subList(0, 25),
                     options().batchSize(4).build(), null)) {
            assertArrayEquals(StatsFixtures.doubles(first), StatsFixtures.doubles(limited));
            assertEquals(25, limited.provenance().texts());
            assertEquals(sha256Lines(texts.subList(0, 25)), limited.provenance().corpusSha256());
        }
    }

    @Test
    void compute_blankLines_skippedAndNotCounted() throws Exception {
        List<String> texts = prompts.subList(0, 30);
        List<String> withBlanks = new ArrayList<>();
        withBlanks.add("");
        for (String t : texts) {
            withBlanks.add(t);
            withBlanks.add("   ");
        }
        try (CovarianceStats plain = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(5).build(), null);
             CovarianceStats blanks = CovarianceStats.compute(model, tok, 1, withBlanks,
                     options().batchSize(5).sampleLimit(30).build(), null)) {
            assertArrayEquals(StatsFixtures.doubles(plain), StatsFixtures.doubles(blanks));
            assertEquals(plain.provenance(), blanks.provenance());
        }
    }

    @Test
    void compute_provenance_recordsModelLayerCorpusHashAndCounts() throws Exception {
        List<String> texts = prompts.subList(0, 10);
        long tokens = 0;
        for (String t : texts) {
            tokens += Math.min(tok.encode(t).length + 2, 60);
        }
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 2, texts, options().build(), null)) {
            StatsProvenance p = s.provenance();
            assertEquals(model.fingerprint(), p.modelFingerprint());
            assertEquals(2, p.layer());
            assertEquals("csv-prompts", p.corpus());
            assertEquals(sha256Lines(texts), p.corpusSha256());
            assertEquals(tokens, p.count());
            assertEquals(10, p.texts());
            assertEquals(60, p.maxTokens());
            assertEquals("float64", p.dtype());
        }
    }

    @Test
    void compute_progress_reportsEveryBatchAndFinish() throws Exception {
        List<StatsProgress> seen = new ArrayList<>();
        try (CovarianceStats s = CovarianceStats.compute(model, tok, 0, prompts.subList(0, 10),
                options().batchSize(3).build(), seen::add)) {
            assertEquals(5, seen.size(), "4 batches (3+3+3+1) and the final report");
            assertEquals(3, seen.get(0).texts());
            assertFalse(seen.get(3).finished());
            StatsProgress last = seen.get(4);
            assertTrue(last.finished());
            assertEquals(10, last.texts());
            assertEquals(s.count(), last.tokens());
        }
    }

    @Test
    void compute_interruptedThenResumed_equalsUninterrupted() throws Exception {
        List<String> texts = prompts.subList(0, 90);
        Path checkpoint = dir.resolve("partial.safetensors");
        StatsOptions opts = options().batchSize(4).checkpoint(checkpoint).checkpointEvery(10).build();
        RuntimeException stop = new RuntimeException("interrupted by the test");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> CovarianceStats.compute(model, tok, 1,
                texts, opts, p -> {
                    if (p.texts() >= 50) {
                        throw stop;
                    }
                }));
        assertEquals(stop, thrown);
        try (CovarianceStats partial = CovarianceStats.load(checkpoint)) {
            assertEquals(48, partial.provenance().texts(), "checkpoints at 12, 24, 36, 48 texts");
            assertEquals(sha256Lines(texts.subList(0, 48)), partial.provenance().corpusSha256());
        }
        List<StatsProgress> resumed = new ArrayList<>();
        try (CovarianceStats whole = CovarianceStats.compute(model, tok, 1, texts, options().batchSize(4).build(), null);
             CovarianceStats again = CovarianceStats.compute(model, tok, 1, texts, opts, resumed::add)) {
            assertEquals(52, resumed.get(0).texts(), "the first batch after the checkpoint");
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(again), StatsFixtures.doubles(whole));
            assertTrue(rel < 1e-12, "resumed vs uninterrupted: " + rel);
            assertEquals(whole.provenance(), again.provenance());
        }
    }

    @Test
    void compute_checkpointFromOtherCorpus_throwsAndKeepsCheckpoint() throws Exception {
        Path checkpoint = dir.resolve("partial.safetensors");
        StatsOptions opts = options().batchSize(5).checkpoint(checkpoint).checkpointEvery(5).build();
        CovarianceStats.compute(model, tok, 1, prompts.subList(0, 10), opts, null).close();
        byte[] before = Files.readAllBytes(checkpoint);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, 1, prompts.subList(5, 30), opts, null));
        assertTrue(e.getMessage().contains("other texts"), e.getMessage());
        IllegalArgumentException layer = assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, 2, prompts.subList(0, 30), opts, null));
        assertTrue(layer.getMessage().contains("layer 1"), layer.getMessage());
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
    }

    @Test
    void compute_badArguments_throwClearly() {
        StatsOptions opts = options().build();
        assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, 3, prompts, opts, null), "layer 3 of 3");
        assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, -1, prompts, opts, null));
        assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, 0, prompts, options().maxTokens(78).build(), null));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> CovarianceStats.compute(model, tok, 0, List.of("", "  "), opts, null));
        assertTrue(empty.getMessage().contains("no non-blank text"), empty.getMessage());
    }
}
