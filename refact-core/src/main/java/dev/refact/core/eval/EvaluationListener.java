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

    /** The run starts; {@code progress.resumed()} cells were found in the results file. */
    default void started(EvalProgress progress) {
    }

    /** A row is not evaluated (reported once per run). */
    default void skipped(SkippedRow row) {
    }

    /** A note worth showing (e.g. an incomplete last line of the results file was dropped). */
    default void warning(String message) {
    }

    /** A cell was scored (or failed) and written. */
    default void cellDone(EvalCase row, CellResult cell, EvalProgress progress) {
    }

    /** Sequential mode: an evaluation point of the curve is done. */
    default void sequentialPoint(SequentialPoint point, EvalProgress progress) {
    }

    /** Sweep: setting {@code index} (0-based) of {@code total} is done. */
    default void sweepPoint(SweepPoint point, int index, int total) {
    }
}
