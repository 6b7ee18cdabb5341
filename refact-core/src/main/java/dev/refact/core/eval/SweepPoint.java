package dev.refact.core.eval;

import java.util.Objects;

/**
 * One setting of a sweep and its evaluation.
 *
 * @param layer          the edited layer
 * @param numContrastive N, the number of contrastive captions
 * @param learningRate   Adam learning rate of the v* search
 * @param result         the evaluation at this setting
 */
public record SweepPoint(int layer, int numContrastive, double learningRate, EvaluationResult result) {
    /**
     * Rejects a null result.
     *
     * @param layer          the edited layer
     * @param numContrastive N, the number of contrastive captions
     * @param learningRate   Adam learning rate of the v* search
     * @param result         the evaluation at this setting, not null
     * @throws NullPointerException if {@code result} is null
     */
    public SweepPoint {
        Objects.requireNonNull(result, "result");
    }

    /**
     * Mean v* steps over the successful edits (NaN if none).
     *
     * @return the mean of {@link EditSummary#steps()} over cells with an edit (one per seed of a row)
     */
    public double meanSteps() {
        return result.cells().stream().filter(c -> c.edit() != null).mapToInt(c -> c.edit().steps()).average()
                .orElse(Double.NaN);
    }

    /**
     * Share of successful edits whose search converged (NaN if none).
     *
     * @return a fraction in [0, 1], or NaN
     */
    public double convergedShare() {
        return result.cells().stream().filter(c -> c.edit() != null).mapToDouble(c -> c.edit().converged() ? 1 : 0)
                .average().orElse(Double.NaN);
    }

    /**
     * Mean edit time in milliseconds (NaN if none).
     *
     * @return the mean of {@link EditSummary#millis()} over cells with an edit, or NaN
     */
    public double meanEditMillis() {
        return result.cells().stream().filter(c -> c.edit() != null).mapToDouble(c -> c.edit().millis()).average()
                .orElse(Double.NaN);
    }
}
