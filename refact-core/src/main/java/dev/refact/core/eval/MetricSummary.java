package dev.refact.core.eval;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The metrics of a set of probe scores (one row, or all rows).
 *
 * @param values the metrics that could be computed (a metric whose probes are absent is missing,
 *               e.g. no F1 without specificity probes)
 * @param cells  how many (row, seed) cells contributed
 */
public record MetricSummary(Map<Metric, MetricValue> values, int cells) {
    /**
     * Copies the map (iteration in {@link Metric} order).
     *
     * @param values the metrics that could be computed; copied
     * @param cells  how many (row, seed) cells contributed
     */
    public MetricSummary {
        EnumMap<Metric, MetricValue> copy = new EnumMap<>(Metric.class);
        copy.putAll(values);
        values = Collections.unmodifiableMap(copy);
    }

    /**
     * One metric, if it could be computed.
     *
     * @param metric the metric
     * @return its mean and spread, or empty if no probe of its kind was scored
     */
    public Optional<MetricValue> get(Metric metric) {
        return Optional.ofNullable(values.get(metric));
    }

    /**
     * One metric's mean.
     *
     * @param metric the metric
     * @return its mean, a fraction in [0, 1]
     * @throws IllegalStateException if the metric is absent
     */
    public double mean(Metric metric) {
        MetricValue v = values.get(metric);
        if (v == null) {
            throw new IllegalStateException("no " + metric.key() + " (no probes of that kind were scored)");
        }
        return v.mean();
    }
}
