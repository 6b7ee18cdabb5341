package dev.refact.core.eval;

/**
 * The metrics of one dataset row over its seeds.
 *
 * @param row     the dataset row index
 * @param summary mean ± std over the row's seeds
 */
public record RowMetrics(int row, MetricSummary summary) {
}
