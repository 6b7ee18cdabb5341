package dev.refact.core.eval;

import java.util.List;

/**
 * The outcome of one (row, seed) cell of an evaluation: one line of the results file.
 *
 * @param row    the dataset row ({@link EvalCase#row()})
 * @param seed   the seed (0 for text space)
 * @param scores the probes' scores with the model as the mode leaves it (edited for {@link EvalMode#REFACT});
 *               efficacy, then generalisation, then specificity; empty when {@code error} is set
 * @param before the same probes on the clean model (text-space refact runs only; otherwise empty)
 * @param edit   what the edit did ({@link EvalMode#REFACT} only; otherwise {@code null})
 * @param error  why the cell could not be scored (e.g. the editor refused the row), or {@code null}
 * @param millis wall time spent on the cell in milliseconds (edit time is shared by the row's seeds)
 *
 * @serial exclude (shipped between JVMs by Spark; the form is the record components above)
 */
public record CellResult(int row, int seed, List<ProbeScore> scores, List<ProbeScore> before, EditSummary edit,
                         String error, double millis) implements java.io.Serializable {
    /**
     * Copies the lists.
     *
     * @param row    the dataset row ({@link EvalCase#row()})
     * @param seed   the seed (0 for text space)
     * @param scores the probes' scores with the model as the mode leaves it; copied, empty for a failed cell
     * @param before the clean model's scores (text-space refact runs only, else empty); copied
     * @param edit   what the edit did ({@link EvalMode#REFACT} only), or {@code null}
     * @param error  why the cell could not be scored, or {@code null} for a scored cell
     * @param millis wall time spent on the cell, in milliseconds
     * @throws NullPointerException if {@code scores} or {@code before} is null or holds a null
     */
    public CellResult {
        scores = List.copyOf(scores);
        before = List.copyOf(before);
    }

    /**
     * Whether the cell failed (see {@link #error()}).
     *
     * @return true when {@code error} is set (the cell then has no scores)
     */
    public boolean failed() {
        return error != null;
    }
}
