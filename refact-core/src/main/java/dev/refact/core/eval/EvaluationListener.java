package dev.refact.core.eval;

/**
 * Receives the progress of an {@link EvaluationRunner} run. Every method has an empty default. Methods run
 * on the evaluating thread; an exception thrown here stops the run (cells already written stay in the
 * results file and the model is left clean), which is also how tests simulate an interruption.
 */
public interface EvaluationListener {
    /** A listener that ignores everything. */
    EvaluationListener NONE = new EvaluationListener() {
    };

    /**
     * The run starts; {@code progress.resumed()} cells were found in the results file.
     *
     * @param progress the state at the start ({@code done} = resumed cells; no ETA yet)
     */
    default void started(EvalProgress progress) {
    }

    /**
     * A row is not evaluated (reported once per run).
     *
     * @param row the row and why it is skipped
     */
    default void skipped(SkippedRow row) {
    }

    /**
     * A note worth showing (e.g. an incomplete last line of the results file was dropped).
     *
     * @param message the note, one line of text
     */
    default void warning(String message) {
    }

    /**
     * A cell was scored (or failed) and written.
     *
     * @param row      the cell's dataset row
     * @param cell     its result ({@link CellResult#failed()} for a refused edit)
     * @param progress the state after this cell
     */
    default void cellDone(EvalCase row, CellResult cell, EvalProgress progress) {
    }

    /**
     * Sequential mode: an evaluation point of the curve is done.
     *
     * @param point    the point just scored
     * @param progress the state counted in curve points, not cells
     */
    default void sequentialPoint(SequentialPoint point, EvalProgress progress) {
    }

    /**
     * Sweep: setting {@code index} (0-based) of {@code total} is done.
     *
     * @param point the setting and its evaluation
     * @param index 0-based count of settings finished before this one (completion order, not grid order, when
     *              settings run concurrently)
     * @param total number of settings in the sweep
     */
    default void sweepPoint(SweepPoint point, int index, int total) {
    }
}
