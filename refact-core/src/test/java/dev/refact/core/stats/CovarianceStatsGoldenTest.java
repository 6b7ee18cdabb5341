package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Against the tiny fixture's golden edit: {@code edit.C} is the mean of k kᵀ over the 38 real tokens (start..end)
 * of the 5 golden prompts at layer 1, computed by openai/CLIP on torch 1.13 (float32 keys, float64 C), plus
 * 0.01·I (see the fixture's PROVENANCE.md).
 */
final class CovarianceStatsGoldenTest {
    @Test
    void compute_goldenPrompts_equalsGoldenCovariance() throws Exception {
        List<String> prompts = List.of("a photo of a cat", "The Eiffel Tower in Paris, oil painting!",
                "An astronaut riding a horse on the moon", "the president of the united states", "");
        double[] golden;
        try (SafetensorsFile f = SafetensorsFile.open(SharedData.resolve(StatsFixtures.MODEL + "/golden.safetensors"))) {
            golden = f.readDoubles("edit.C");
        }
        int dim = 128;
        for (int i = 0; i < dim; i++) {
            golden[i * dim + i] -= 0.01;
        }
        ClipTokenizer tok = StatsFixtures.tokenizer();
        // the golden counts the empty prompt too (start, end); compute skips blank texts, so stand in a text that
        // Java does not call blank but CLIP's cleanup empties (a no-break space): same ids [start, end]
        List<String> texts = List.of(prompts.get(0), prompts.get(1), prompts.get(2), prompts.get(3), "\u00a0");
        assertEquals(0, tok.encode(texts.get(4)).length, "the stand-in must encode to no BPE ids");
        try (ClipTextModel model = StatsFixtures.model();
             CovarianceStats s = CovarianceStats.compute(model, tok, 1, texts, StatsOptions.builder().batchSize(2)
                     .maxTokens(77).build(), null)) {
            assertEquals(38, s.count());
            double rel = StatsFixtures.relativeError(StatsFixtures.doubles(s), golden);
            // float32 keys from another torch build: measured 1.4e-7 relative
            assertTrue(rel < 1e-6, "relative error vs golden C: " + rel);
        }
    }
}
