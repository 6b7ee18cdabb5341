package dev.refact.core.eval;

import java.util.Objects;

/**
 * A row the runner did not evaluate.
 *
 * @param row    the dataset row
 * @param label  {@link EvalCase#label()}
 * @param reason why (e.g. no oracle prompts)
 */
public record SkippedRow(int row, String label, String reason) {
    /** Rejects nulls. */
    public SkippedRow {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(reason, "reason");
    }
}
