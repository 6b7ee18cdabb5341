package dev.refact.core.eval;

import java.util.List;

/**
 * Aggregated metrics: overall and per row.
 *
 * @param overall all rows; the std is over seeds of the per-seed mean across rows
 * @param rows    one entry per row, ascending row index
 * @param seeds   the distinct seeds seen, ascending
 */
public record MetricsReport(MetricSummary overall, List<RowMetrics> rows, List<Integer> seeds) {
    /**
     * Copies the lists.
     *
     * @param overall all rows' metrics
     * @param rows    one entry per row, ascending row index; copied
     * @param seeds   the distinct seeds seen, ascending; copied
     */
    public MetricsReport {
        rows = List.copyOf(rows);
        seeds = List.copyOf(seeds);
    }
}
