package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsProvenance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** The tiny CLIP fixture, the real tokenizer and brute-force second moments of its keys. */
public final class TinyFixture {
    static final Path MODEL = SharedData.resolve("models/tiny-random-clip-text");
    static final Path TOKENIZER = SharedData.resolve("clip-tokenizer");
    static final List<String> CORPUS = List.of(
            "a photo of a cat", "the president of the united states", "a red apple on a table",
            "a man riding a horse", "an astronaut on the moon", "a bowl of bananas", "the eiffel tower in paris",
            "a portrait of a woman", "a dog running on the beach", "a blue car in the street",
            "the prime minister of canada", "a painting of a sunflower", "a city at night", "a cup of coffee",
            "a child playing with a ball", "a green tree in a field", "the queen of england", "a black cat sleeping",
            "a mountain covered in snow", "a plate of pasta", "a boat on the sea", "an old man reading a book");

    private TinyFixture() {
    }

    static ClipTextModel model() throws IOException {
        return ClipTextModel.load(MODEL);
    }

    static ClipTokenizer tokenizer() throws IOException {
        return ClipTokenizer.load(TOKENIZER);
    }

    /** C = mean k kᵀ over every real token of {@link #CORPUS} at {@code layer} + ridge·I, in float64. */
    static CovarianceStats stats(ClipTextModel model, ClipTokenizer tok, int layer, double ridge) {
        return stats(model, tok, layer, ridge, CORPUS, "tiny-test-corpus");
    }

    /** Brute-force C = mean k kᵀ over every real token of {@code corpus} + ridge·I (float64, plain Java). */
    public static CovarianceStats stats(ClipTextModel model, ClipTokenizer tok, int layer, double ridge,
                                        List<String> corpus, String corpusName) {
        int i = model.config().intermediateSize();
        double[] c = new double[i * i];
        long count = 0;
        try (PointerScope scope = new PointerScope()) {
            for (String text : corpus) {
                long[] ids = tok.inputIds(text, 77, Padding.END_TOKEN);
                int n = tok.encode(text).length + 2;
                Tensor t = Tensors.longs(java.util.Arrays.copyOf(ids, n), model.device(), 1, n);
                try (MlpTrace tr = model.traceMlp(t, layer)) {
                    double[] k = Tensors.toDoubles(tr.key());
                    for (int p = 0; p < n; p++) {
                        for (int a = 0; a < i; a++) {
                            double ka = k[p * i + a];
                            for (int b = 0; b < i; b++) {
                                c[a * i + b] += ka * k[p * i + b];
                            }
                        }
                    }
                    count += n;
                }
            }
            for (int a = 0; a < i * i; a++) {
                c[a] /= count;
            }
            for (int a = 0; a < i; a++) {
                c[a * i + a] += ridge;
            }
            StatsProvenance prov = new StatsProvenance(model.fingerprint(), layer, corpusName, "", count,
                    "float64");
            return CovarianceStats.fromMatrix(Tensors.doubles(c, model.device(), i, i), layer, count, prov,
                    model.device());
        }
    }

    /** Layer-1 hyperparameters for the 3-layer fixture, with few contrastive captions to stay fast. */
    static Hyperparameters.Builder hyperparameters() {
        return Hyperparameters.builder().layer(1).numContrastive(5);
    }

    /** Every parameter's values by name, to compare weights bit for bit before and after. */
    static java.util.Map<String, float[]> snapshot(ClipTextModel m) {
        java.util.Map<String, float[]> s = new java.util.LinkedHashMap<>();
        for (String n : m.parameterNames()) {
            s.put(n, m.parameterValues(n));
        }
        return s;
    }

    /** Asserts that {@code m}'s weights equal {@code expected} bit for bit. */
    static void assertSameWeights(java.util.Map<String, float[]> expected, ClipTextModel m) {
        for (java.util.Map.Entry<String, float[]> e : expected.entrySet()) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(e.getValue(), m.parameterValues(e.getKey()), e.getKey());
        }
    }
}
