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
    /**
     * Rejects nulls.
     *
     * @param row    the dataset row
     * @param label  the row's label, not null
     * @param reason why it was not evaluated, not null
     * @throws NullPointerException if {@code label} or {@code reason} is null
     */
    public SkippedRow {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(reason, "reason");
    }
}
