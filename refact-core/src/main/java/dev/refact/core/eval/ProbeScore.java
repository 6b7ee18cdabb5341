package dev.refact.core.eval;

import java.util.Objects;

/**
 * The two-way classifier output for one generated image.
 *
 * <p>{@code pOld} and {@code pNew} are the softmax over {@code [old text, new text]} (ReFACT:
 * {@code softmax(100 · cos)}); for a specificity probe "old" is the negative prompt and "new" its
 * {@code Negative_new} / {@code gn} text.
 *
 * @param row   the dataset row ({@link EvalCase#row()})
 * @param seed  the generation seed
 * @param kind  what the probe measures
 * @param index the probe's index within its kind (0 for efficacy, 0..4 for positives/negatives)
 * @param pOld  probability of the old text, in [0, 1]
 * @param pNew  probability of the new text, in [0, 1]
 *
 * @serial exclude (shipped between JVMs by Spark; the form is the record components above)
 */
public record ProbeScore(int row, int seed, ProbeKind kind, int index, double pOld, double pNew)
        implements java.io.Serializable {
    /**
     * @param row   the dataset row, at least 0
     * @param seed  the generation seed
     * @param kind  what the probe measures, not null
     * @param index the probe's index within its kind, at least 0
     * @param pOld  probability of the old text, in [0, 1]
     * @param pNew  probability of the new text, in [0, 1]
     * @throws NullPointerException     if {@code kind} is null
     * @throws IllegalArgumentException for a negative row or index, or a probability outside [0, 1]
     *                                  (NaN included)
     */
    public ProbeScore {
        Objects.requireNonNull(kind, "kind");
        if (row < 0 || index < 0) {
            throw new IllegalArgumentException("row and index must be >= 0, got row " + row + " index " + index);
        }
        if (!(pOld >= 0 && pOld <= 1) || !(pNew >= 0 && pNew <= 1)) {
            throw new IllegalArgumentException("probabilities must be in [0, 1], got pOld " + pOld + " pNew " + pNew
                    + " (row " + row + ", seed " + seed + ", " + kind + " " + index + ")");
        }
    }

    /**
     * Whether the probe succeeded: {@code pNew > pOld}, or {@code pOld > pNew} for specificity (ties fail).
     *
     * @return true on success
     */
    public boolean success() {
        return kind == ProbeKind.SPECIFICITY ? pOld > pNew : pNew > pOld;
    }

    /**
     * The probability of the class that counts as success ({@code pOld} for specificity, else {@code pNew}).
     *
     * @return that probability, in [0, 1] (compared with 0.75 / 0.9 for the strict metrics)
     */
    public double successProbability() {
        return kind == ProbeKind.SPECIFICITY ? pOld : pNew;
    }
}
