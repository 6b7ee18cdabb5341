package dev.refact.core.eval;

/**
 * The reported metrics. All are fractions in [0, 1] (reports print percentages).
 *
 * <p>The strict variants count a probe only when the probability of the succeeding class exceeds
 * 0.75 or 0.9 (ReFACT's {@code generality_75} / {@code generality_90}; for specificity the
 * probability of the negative prompt).
 */
public enum Metric {
    /** Share of edit-prompt images showing the target. */
    EFFICACY("efficacy"),
    /** Share of positive-prompt images showing the target. */
    GENERALISATION("generalisation"),
    /** Share of negative-prompt images left unchanged. */
    SPECIFICITY("specificity"),
    /** Geometric mean of generalisation and specificity. */
    F1("f1"),
    /** Efficacy counting only p(new) &gt; 0.75. */
    EFFICACY_75("efficacy_75"),
    /** Efficacy counting only p(new) &gt; 0.9. */
    EFFICACY_90("efficacy_90"),
    /** Generalisation counting only p(new) &gt; 0.75. */
    GENERALISATION_75("generalisation_75"),
    /** Generalisation counting only p(new) &gt; 0.9. */
    GENERALISATION_90("generalisation_90"),
    /** Specificity counting only p(negative) &gt; 0.75. */
    SPECIFICITY_75("specificity_75"),
    /** Specificity counting only p(negative) &gt; 0.9. */
    SPECIFICITY_90("specificity_90");

    private final String key;

    Metric(String key) {
        this.key = key;
    }

    /**
     * The snake_case name used in CSV and JSON outputs.
     *
     * @return the key, e.g. {@code generalisation_75}
     */
    public String key() {
        return key;
    }
}
