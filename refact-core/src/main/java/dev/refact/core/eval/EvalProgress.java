package dev.refact.core.eval;

import java.time.Duration;

/**
 * Where a run stands.
 *
 * @param done    cells finished, including those found in the results file
 * @param total   cells to finish (rows × seeds, without skipped rows)
 * @param resumed cells found in the results file when the run started
 * @param elapsed time since this run started
 * @param eta     estimated time to finish, from the cells computed in this run ({@code null} before the
 *                first one)
 */
public record EvalProgress(int done, int total, int resumed, Duration elapsed, Duration eta) {
    /**
     * Share done, in [0, 1].
     *
     * @return {@code done / total}, or 1 when there is nothing to do
     */
    public double fraction() {
        return total == 0 ? 1 : (double) done / total;
    }
}
