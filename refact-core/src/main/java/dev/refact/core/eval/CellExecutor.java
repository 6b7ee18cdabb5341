package dev.refact.core.eval;

import java.io.IOException;
import java.util.List;

/**
 * Computes an evaluation's pending cells somewhere other than the runner's own loop: another thread pool, or a
 * cluster (the optional {@code refact-spark} module). The {@link EvaluationRunner} stays in charge of everything
 * around the cells: the configuration check, the results file, resume, progress and the result; the executor
 * only turns {@link CellSpec}s into {@link CellResult}s, each exactly as
 * {@link EvaluationRunner#evaluateCell} would compute it on a clean model.
 *
 * <p>Set with {@link EvaluationRunner.Builder#executor(CellExecutor)}.
 */
public interface CellExecutor {

    /**
     * Computes the cells and hands each result to {@code sink} as soon as it is known, in any order, always on
     * the calling thread (the sink appends to the results file). A cell that fails deterministically (the editor
     * refuses the row, or scoring throws) is handed over as a failed {@link CellResult}, not thrown; only
     * failures of the executor itself (resources that cannot be loaded, a cluster that gives up) are thrown, and
     * the cells handed over until then stay in the results file.
     *
     * @param cells the pending cells, in run order (row, then seed)
     * @param sink  receives every cell's result exactly once
     * @throws IOException if the sink throws, or the executor fails
     */
    void execute(List<CellSpec> cells, Sink sink) throws IOException;

    /** Receives finished cells on the thread that called {@link #execute}. */
    interface Sink {
        /**
         * One finished cell.
         *
         * @param cell   what was computed
         * @param result its result ({@code row} and {@code seed} equal the cell's)
         * @throws IOException if the result cannot be recorded
         */
        void accept(CellSpec cell, CellResult result) throws IOException;
    }
}
