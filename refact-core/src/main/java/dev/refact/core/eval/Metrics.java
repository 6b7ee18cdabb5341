package dev.refact.core.eval;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Efficacy, generalisation, specificity and F1 from two-way classifier probabilities, as ReFACT's
 * {@code test_clip_score.py} computes them.
 *
 * <p>For each (row, seed) cell a metric is the share of that cell's probes of the kind that succeed
 * (efficacy: the one edit-prompt image; generalisation: the 5 positives; specificity: the 5
 * negatives), where success is {@link ProbeScore#success()} or, for the strict variants, a success
 * probability above 0.75 / 0.9. Then:
 * <ul>
 *   <li>per row: mean and population std ({@code np.std}) of the cell values over the row's seeds;</li>
 *   <li>overall: mean of all cells ({@code np.mean(all)}); std over seeds of the per-seed mean across
 *       rows ({@code np.std(all.mean(axis=0))}, ReFACT's {@code *_std});</li>
 *   <li>F1 = √(generalisation · specificity) of the means (the paper's Table 1 F1 is this, e.g.
 *       √(88.02 · 79.18) = 83.48); its std is over seeds of the per-seed √(gen · spec).</li>
 * </ul>
 * With every row scored for every seed this is exactly ReFACT's arithmetic; with gaps (an
 * interrupted run) each metric uses the cells it has.
 */
public final class Metrics {
    /** The strict thresholds. */
    public static final double STRICT_75 = 0.75;
    /** The stricter threshold. */
    public static final double STRICT_90 = 0.9;

    private Metrics() {
    }

    /** Per-cell sums for the three kinds and the strict counts. */
    private static final class Cell {
        final int row;
        final int seed;
        final int[] n = new int[3];
        final int[] ok = new int[3];
        final int[] ok75 = new int[3];
        final int[] ok90 = new int[3];

        Cell(int row, int seed) {
            this.row = row;
            this.seed = seed;
        }

        void add(ProbeScore s) {
            int k = s.kind().ordinal();
            n[k]++;
            ok[k] += s.success() ? 1 : 0;
            ok75[k] += s.successProbability() > STRICT_75 ? 1 : 0;
            ok90[k] += s.successProbability() > STRICT_90 ? 1 : 0;
        }

        /** The cell's value of a base metric, or NaN when the cell has no probe of that kind. */
        double value(Metric m) {
            return switch (m) {
                case EFFICACY -> share(ok, 0);
                case GENERALISATION -> share(ok, 1);
                case SPECIFICITY -> share(ok, 2);
                case EFFICACY_75 -> share(ok75, 0);
                case EFFICACY_90 -> share(ok90, 0);
                case GENERALISATION_75 -> share(ok75, 1);
                case GENERALISATION_90 -> share(ok90, 1);
                case SPECIFICITY_75 -> share(ok75, 2);
                case SPECIFICITY_90 -> share(ok90, 2);
                case F1 -> throw new IllegalArgumentException("F1 is derived");
            };
        }

        private double share(int[] count, int k) {
            return n[k] == 0 ? Double.NaN : (double) count[k] / n[k];
        }
    }

    /**
     * Aggregates probe scores.
     *
     * @param scores any number of scores, in any order
     * @return overall and per-row metrics
     * @throws IllegalArgumentException if two scores have the same (row, seed, kind, index), or an
     *                                  efficacy score has an index other than 0
     */
    public static MetricsReport aggregate(Collection<ProbeScore> scores) {
        Map<Long, Cell> cells = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        for (ProbeScore s : scores) {
            if (s.kind() == ProbeKind.EFFICACY && s.index() != 0) {
                throw new IllegalArgumentException("efficacy score with index " + s.index() + " (row " + s.row()
                        + ", seed " + s.seed() + "): there is one edit-prompt image per row and seed");
            }
            if (!seen.add(s.row() + "/" + s.seed() + "/" + s.kind() + "/" + s.index())) {
                throw new IllegalArgumentException("duplicate score for row " + s.row() + ", seed " + s.seed() + ", "
                        + s.kind() + " " + s.index());
            }
            long key = ((long) s.row() << 32) | (s.seed() & 0xFFFFFFFFL);
            cells.computeIfAbsent(key, k -> new Cell(s.row(), s.seed())).add(s);
        }
        TreeMap<Integer, List<Cell>> byRow = new TreeMap<>();
        TreeMap<Integer, List<Cell>> bySeed = new TreeMap<>();
        for (Cell c : cells.values()) {
            byRow.computeIfAbsent(c.row, k -> new ArrayList<>()).add(c);
            bySeed.computeIfAbsent(c.seed, k -> new ArrayList<>()).add(c);
        }
        List<RowMetrics> rows = new ArrayList<>();
        for (Map.Entry<Integer, List<Cell>> e : byRow.entrySet()) {
            rows.add(new RowMetrics(e.getKey(), rowSummary(e.getValue())));
        }
        return new MetricsReport(overall(cells.values(), bySeed), rows, new ArrayList<>(bySeed.keySet()));
    }

    /** One row: each cell is one seed. */
    private static MetricSummary rowSummary(List<Cell> cells) {
        Map<Metric, MetricValue> out = new EnumMap<>(Metric.class);
        Map<Metric, double[]> perSeed = new EnumMap<>(Metric.class);
        for (Metric m : Metric.values()) {
            if (m == Metric.F1) {
                continue;
            }
            double[] v = cells.stream().mapToDouble(c -> c.value(m)).filter(d -> !Double.isNaN(d)).toArray();
            if (v.length > 0) {
                out.put(m, new MetricValue(mean(v), std(v), v.length));
                perSeed.put(m, cells.stream().mapToDouble(c -> c.value(m)).toArray());
            }
        }
        f1(out, perSeed);
        return new MetricSummary(out, cells.size());
    }

    private static MetricSummary overall(Collection<Cell> cells, TreeMap<Integer, List<Cell>> bySeed) {
        Map<Metric, MetricValue> out = new EnumMap<>(Metric.class);
        Map<Metric, double[]> perSeed = new EnumMap<>(Metric.class);
        for (Metric m : Metric.values()) {
            if (m == Metric.F1) {
                continue;
            }
            double[] all = cells.stream().mapToDouble(c -> c.value(m)).filter(d -> !Double.isNaN(d)).toArray();
            if (all.length == 0) {
                continue;
            }
            double[] seedMeans = bySeed.values().stream()
                    .mapToDouble(list -> mean(list.stream().mapToDouble(c -> c.value(m))
                            .filter(d -> !Double.isNaN(d)).toArray()))
                    .toArray();
            double[] present = java.util.Arrays.stream(seedMeans).filter(d -> !Double.isNaN(d)).toArray();
            out.put(m, new MetricValue(mean(all), std(present), present.length));
            perSeed.put(m, seedMeans);
        }
        f1(out, perSeed);
        return new MetricSummary(out, cells.size());
    }

    /** F1 of the means; std over seeds of the per-seed F1 (per-seed arrays are aligned, NaN = absent). */
    private static void f1(Map<Metric, MetricValue> out, Map<Metric, double[]> perSeed) {
        MetricValue g = out.get(Metric.GENERALISATION);
        MetricValue s = out.get(Metric.SPECIFICITY);
        if (g == null || s == null) {
            return;
        }
        double[] gs = perSeed.get(Metric.GENERALISATION);
        double[] ss = perSeed.get(Metric.SPECIFICITY);
        List<Double> f = new ArrayList<>();
        for (int i = 0; i < gs.length; i++) {
            if (!Double.isNaN(gs[i]) && !Double.isNaN(ss[i])) {
                f.add(Math.sqrt(gs[i] * ss[i]));
            }
        }
        double[] fa = f.stream().mapToDouble(Double::doubleValue).toArray();
        out.put(Metric.F1, new MetricValue(Math.sqrt(g.mean() * s.mean()), fa.length == 0 ? 0 : std(fa), fa.length));
    }

    static double mean(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (double d : v) {
            sum += d;
        }
        return sum / v.length;
    }

    /** Population standard deviation (ddof 0), two-pass. */
    static double std(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double m = mean(v);
        double ss = 0;
        for (double d : v) {
            ss += (d - m) * (d - m);
        }
        return Math.sqrt(ss / v.length);
    }
}
