package dev.refact.core.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of an {@link EvaluationRunner} run: every requested (row, seed) cell (computed now or found in
 * the results file), the rows skipped, and the aggregates.
 *
 * @param setup    what was run
 * @param cells    one per (row, seed) that was scored or failed, ordered by row then seed
 * @param skipped  rows not evaluated, with the reason
 * @param computed cells computed by this run
 * @param resumed  cells read from the results file
 */
public record EvaluationResult(EvaluationSetup setup, List<CellResult> cells, List<SkippedRow> skipped,
                               int computed, int resumed) {
    /**
     * Copies the lists.
     *
     * @param setup    what was run, not null
     * @param cells    the scored or failed cells, ordered by row then seed; copied
     * @param skipped  rows not evaluated; copied
     * @param computed cells computed by this run
     * @param resumed  cells read from the results file
     * @throws NullPointerException if {@code setup} or a list is null
     */
    public EvaluationResult {
        Objects.requireNonNull(setup, "setup");
        cells = List.copyOf(cells);
        skipped = List.copyOf(skipped);
    }

    /**
     * Metrics of the scored cells (after the edit in {@link EvalMode#REFACT} mode).
     *
     * @return the aggregate ({@link Metrics#aggregate}) of every cell's scores; failed cells add nothing
     */
    public MetricsReport metrics() {
        List<ProbeScore> all = new ArrayList<>();
        cells.forEach(c -> all.addAll(c.scores()));
        return Metrics.aggregate(all);
    }

    /**
     * Metrics of the clean model on the same probes, when the run recorded them (text-space refact runs).
     *
     * @return the aggregate of every cell's {@link CellResult#before()} scores, or empty when there are none
     */
    public Optional<MetricsReport> metricsBefore() {
        List<ProbeScore> all = new ArrayList<>();
        cells.forEach(c -> all.addAll(c.before()));
        return all.isEmpty() ? Optional.empty() : Optional.of(Metrics.aggregate(all));
    }

    /**
     * The cells that failed.
     *
     * @return the failed cells, in cell order (an unmodifiable list, possibly empty)
     */
    public List<CellResult> failed() {
        return cells.stream().filter(CellResult::failed).toList();
    }

    /**
     * The row's case, looked up in the setup's dataset.
     *
     * @param row a dataset row index ({@link CellResult#row()}), not an index into {@link #cells()}
     * @return the dataset's case at that row
     * @throws IndexOutOfBoundsException if the dataset has no such row
     */
    public EvalCase row(int row) {
        return setup.dataset().cases().get(row);
    }
}
