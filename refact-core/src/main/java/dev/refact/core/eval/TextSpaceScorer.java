package dev.refact.core.eval;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** {@link ProbeScorer} over {@link TextSpaceEvaluator}. */
final class TextSpaceScorer implements ProbeScorer {
    private final TextSpaceEvaluator evaluator;
    private final boolean projected;

    TextSpaceScorer(ClipTokenizer tokenizer, boolean projected) {
        this.evaluator = new TextSpaceEvaluator(Objects.requireNonNull(tokenizer, "tokenizer"), projected);
        this.projected = projected;
    }

    @Override
    public String space() {
        return "text";
    }

    @Override
    public boolean seeded() {
        return false;
    }

    @Override
    public Map<String, String> description() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("scorer", "text-space two-way softmax(100·cos)");
        d.put("representation", projected ? "projected" : "pooled");
        return d;
    }

    @Override
    public RowScorer prepare(ClipTextModel cleanModel, EvalCase row, List<TwoWayProbe> probes) {
        TextSpaceEvaluator.Reference ref = evaluator.reference(cleanModel, probes);
        return (model, seed) -> evaluator.score(model, ref);
    }
}
