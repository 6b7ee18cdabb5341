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
    /** Copies the lists. */
    public EvaluationResult {
        Objects.requireNonNull(setup, "setup");
        cells = List.copyOf(cells);
        skipped = List.copyOf(skipped);
    }

    /** Metrics of the scored cells (after the edit in {@link EvalMode#REFACT} mode). */
    public MetricsReport metrics() {
        List<ProbeScore> all = new ArrayList<>();
        cells.forEach(c -> all.addAll(c.scores()));
        return Metrics.aggregate(all);
    }

    /** Metrics of the clean model on the same probes, when the run recorded them (text-space refact runs). */
    public Optional<MetricsReport> metricsBefore() {
        List<ProbeScore> all = new ArrayList<>();
        cells.forEach(c -> all.addAll(c.before()));
        return all.isEmpty() ? Optional.empty() : Optional.of(Metrics.aggregate(all));
    }

    /** The cells that failed. */
    public List<CellResult> failed() {
        return cells.stream().filter(CellResult::failed).toList();
    }

    /** The row's case, looked up in the setup's dataset. */
    public EvalCase row(int row) {
        return setup.dataset().cases().get(row);
    }
}
