package dev.refact.core.eval;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The tiny 3-layer CLIP text fixture, the real tokenizer, second-moment statistics of its keys over a small
 * corpus (as {@code dev.refact.core.TinyFixture} builds them), and fast hyperparameters for runner tests.
 */
final class EvalFixture {
    static final Path MODEL = SharedData.resolve("models/tiny-random-clip-text");
    static final Path TOKENIZER = SharedData.resolve("clip-tokenizer");
    static final Path ROAD = SharedData.resolve("refact/road/RoAD_validation.csv");
    static final Path TIME = SharedData.resolve("refact/time/TIMED_validation_set.csv");
    static final List<String> CORPUS = List.of(
            "a photo of a cat", "the president of the united states", "a red apple on a table",
            "a man riding a horse", "an astronaut on the moon", "a bowl of bananas", "the eiffel tower in paris",
            "a portrait of a woman", "a dog running on the beach", "a blue car in the street",
            "the prime minister of canada", "a painting of a sunflower", "a city at night", "a cup of coffee",
            "a child playing with a ball", "a green tree in a field", "the queen of england", "a black cat sleeping",
            "a mountain covered in snow", "a plate of pasta", "a boat on the sea", "an old man reading a book");

    private EvalFixture() {
    }

    static ClipTextModel model() throws IOException {
        return ClipTextModel.load(MODEL);
    }

    static ClipTokenizer tokenizer() throws IOException {
        return ClipTokenizer.load(TOKENIZER);
    }

    /** C = mean k kᵀ over every real token of the corpus at {@code layer}, plus {@code ridge}·I (float64). */
    static CovarianceStats stats(ClipTextModel model, ClipTokenizer tok, int layer, double ridge) {
        return stats(model, tok, layer, ridge, CORPUS);
    }

    /** As {@link #stats(ClipTextModel, ClipTokenizer, int, double)} over another corpus. */
    static CovarianceStats stats(ClipTextModel model, ClipTokenizer tok, int layer, double ridge, List<String> corpus) {
        return dev.refact.core.TinyFixture.stats(model, tok, layer, ridge, corpus, "tiny-eval-corpus");
    }

    /** Layer 1 of the 3-layer fixture, 2 contrastive captions, at most 4 v* steps: mechanics, not quality. */
    static Hyperparameters.Builder hyperparameters() {
        return Hyperparameters.builder().layer(1).numContrastive(2).maxSteps(4);
    }

    /** Every parameter's values, to check that runs leave the model bit-identical. */
    static Map<String, float[]> snapshot(ClipTextModel m) {
        Map<String, float[]> s = new java.util.LinkedHashMap<>();
        for (String n : m.parameterNames()) {
            s.put(n, Tensors.toFloats(m.parameter(n)));
        }
        return s;
    }
}
