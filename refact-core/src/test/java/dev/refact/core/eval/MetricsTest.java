package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Metric arithmetic on synthetic classifier scores with hand-computed answers. */
final class MetricsTest {
    private static final double EPS = 1e-12;

    /** Adds one cell: efficacy p(new), five positive p(new), five negative p(old). */
    private static void cell(List<ProbeScore> out, int row, int seed, double eff, double[] gen, double[] spec) {
        out.add(new ProbeScore(row, seed, ProbeKind.EFFICACY, 0, 1 - eff, eff));
        for (int i = 0; i < gen.length; i++) {
            out.add(new ProbeScore(row, seed, ProbeKind.GENERALISATION, i, 1 - gen[i], gen[i]));
        }
        for (int i = 0; i < spec.length; i++) {
            out.add(new ProbeScore(row, seed, ProbeKind.SPECIFICITY, i, spec[i], 1 - spec[i]));
        }
    }

    private static double[] five(double v) {
        return new double[] {v, v, v, v, v};
    }

    /** Two rows x three seeds; the per-cell values are worked out in the comments. */
    private static List<ProbeScore> twoRowsThreeSeeds() {
        List<ProbeScore> s = new ArrayList<>();
        // row 0 seed 0: eff 1 (0.8: >.75, not >.9); gen 4/5 (>.75: 3/5, >.9: 2/5); spec 3/5 (0.5 ties fail; >.75 2/5, >.9 1/5)
        cell(s, 0, 0, 0.8, new double[] {0.95, 0.6, 0.4, 0.8, 0.91}, new double[] {0.9, 0.7, 0.2, 0.99, 0.5});
        cell(s, 0, 1, 0.3, five(0.6), five(0.95));   // eff 0; gen 1 (strict 0); spec 1 (strict 1, 1)
        cell(s, 0, 2, 0.95, five(0.1), five(0.6));   // eff 1 (1, 1); gen 0; spec 1 (strict 0)
        cell(s, 1, 0, 0.6, five(0.7), five(0.4));    // eff 1 (0, 0); gen 1 (0, 0); spec 0
        cell(s, 1, 1, 0.2, five(0.9), five(0.8));    // eff 0; gen 1 (>.75 1, >.9 0); spec 1 (1, 0)
        cell(s, 1, 2, 0.99, five(0.55), five(0.45)); // eff 1 (1, 1); gen 1 (0, 0); spec 0
        return s;
    }

    private static double popStd(double... v) {
        double m = 0;
        for (double d : v) {
            m += d / v.length;
        }
        double ss = 0;
        for (double d : v) {
            ss += (d - m) * (d - m);
        }
        return Math.sqrt(ss / v.length);
    }

    @Test
    void aggregate_balancedScores_overallMatchesHandComputation() {
        MetricsReport r = Metrics.aggregate(twoRowsThreeSeeds());
        MetricSummary o = r.overall();
        assertEquals(List.of(0, 1, 2), r.seeds());
        assertEquals(6, o.cells());
        // efficacy cells [1,0,1 | 1,0,1]; per-seed means [1, 0, 1]
        assertEquals(4.0 / 6, o.mean(Metric.EFFICACY), EPS);
        assertEquals(popStd(1, 0, 1), o.get(Metric.EFFICACY).orElseThrow().std(), EPS);
        // generalisation cells [.8,1,0 | 1,1,1]; per-seed means [.9, 1, .5]
        assertEquals(0.8, o.mean(Metric.GENERALISATION), EPS);
        assertEquals(popStd(0.9, 1, 0.5), o.get(Metric.GENERALISATION).orElseThrow().std(), EPS);
        // specificity cells [.6,1,1 | 0,1,0]; per-seed means [.3, 1, .5]
        assertEquals(0.6, o.mean(Metric.SPECIFICITY), EPS);
        assertEquals(popStd(0.3, 1, 0.5), o.get(Metric.SPECIFICITY).orElseThrow().std(), EPS);
        // F1 = sqrt(gen * spec) of the means; std over seeds of per-seed sqrt(gen_s * spec_s)
        assertEquals(Math.sqrt(0.8 * 0.6), o.mean(Metric.F1), EPS);
        assertEquals(popStd(Math.sqrt(0.9 * 0.3), 1, Math.sqrt(0.5 * 0.5)), o.get(Metric.F1).orElseThrow().std(), EPS);
        assertEquals(3, o.get(Metric.F1).orElseThrow().seeds());
    }

    @Test
    void aggregate_balancedScores_strictVariantsMatchHandComputation() {
        MetricSummary o = Metrics.aggregate(twoRowsThreeSeeds()).overall();
        assertEquals(3.0 / 6, o.mean(Metric.EFFICACY_75), EPS);        // .8 .95 .99
        assertEquals(2.0 / 6, o.mean(Metric.EFFICACY_90), EPS);        // .95 .99
        assertEquals((0.6 + 1) / 6, o.mean(Metric.GENERALISATION_75), EPS);
        assertEquals(0.4 / 6, o.mean(Metric.GENERALISATION_90), EPS);  // 0.9 is not > 0.9
        assertEquals((0.4 + 1 + 1) / 6, o.mean(Metric.SPECIFICITY_75), EPS);
        assertEquals((0.2 + 1) / 6, o.mean(Metric.SPECIFICITY_90), EPS);
    }

    @Test
    void aggregate_balancedScores_perRowMeansAndStdsOverSeeds() {
        MetricsReport r = Metrics.aggregate(twoRowsThreeSeeds());
        assertEquals(2, r.rows().size());
        MetricSummary row0 = r.rows().get(0).summary();
        assertEquals(0, r.rows().get(0).row());
        assertEquals(2.0 / 3, row0.mean(Metric.EFFICACY), EPS);
        assertEquals(popStd(1, 0, 1), row0.get(Metric.EFFICACY).orElseThrow().std(), EPS);
        assertEquals(0.6, row0.mean(Metric.GENERALISATION), EPS);
        assertEquals(popStd(0.8, 1, 0), row0.get(Metric.GENERALISATION).orElseThrow().std(), EPS);
        assertEquals(2.6 / 3, row0.mean(Metric.SPECIFICITY), EPS);
        assertEquals(Math.sqrt(0.6 * 2.6 / 3), row0.mean(Metric.F1), EPS);
        assertEquals(popStd(Math.sqrt(0.8 * 0.6), 1, 0), row0.get(Metric.F1).orElseThrow().std(), EPS);
        MetricSummary row1 = r.rows().get(1).summary();
        assertEquals(1.0, row1.mean(Metric.GENERALISATION), EPS);
        assertEquals(0.0, row1.get(Metric.GENERALISATION).orElseThrow().std(), EPS);
        assertEquals(1.0 / 3, row1.mean(Metric.SPECIFICITY), EPS);
    }

    @Test
    void aggregate_inputOrder_doesNotMatter() {
        List<ProbeScore> s = twoRowsThreeSeeds();
        List<ProbeScore> reversed = new ArrayList<>(s);
        java.util.Collections.reverse(reversed);
        assertEquals(Metrics.aggregate(s), Metrics.aggregate(reversed));
    }

    @Test
    void aggregate_missingCell_usesTheCellsPresent() {
        List<ProbeScore> s = twoRowsThreeSeeds();
        s.removeIf(p -> p.row() == 1 && p.seed() == 2);
        MetricsReport r = Metrics.aggregate(s);
        MetricSummary o = r.overall();
        assertEquals(5, o.cells());
        assertEquals(3.0 / 5, o.mean(Metric.EFFICACY), EPS);
        // per-seed means of efficacy: s0 (1+1)/2, s1 0, s2 1 (row 0 only)
        assertEquals(popStd(1, 0, 1), o.get(Metric.EFFICACY).orElseThrow().std(), EPS);
        assertEquals(2, r.rows().get(1).summary().get(Metric.EFFICACY).orElseThrow().seeds());
    }

    @Test
    void aggregate_efficacyOnly_hasNoF1() {
        List<ProbeScore> s = List.of(new ProbeScore(0, 0, ProbeKind.EFFICACY, 0, 0.1, 0.9),
                new ProbeScore(0, 1, ProbeKind.EFFICACY, 0, 0.9, 0.1));
        MetricSummary o = Metrics.aggregate(s).overall();
        assertEquals(0.5, o.mean(Metric.EFFICACY), EPS);
        assertFalse(o.get(Metric.F1).isPresent());
        assertFalse(o.get(Metric.GENERALISATION).isPresent());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> o.mean(Metric.SPECIFICITY));
        assertTrue(e.getMessage().contains("specificity"), e.getMessage());
    }

    @Test
    void aggregate_paperTableOneF1_isGeometricMeanOfMeans() {
        // 10000 cells: generalisation 88.02 %, specificity 79.18 % -> F1 83.48 % (Table 1, TIME, ReFACT)
        List<ProbeScore> s = new ArrayList<>();
        for (int row = 0; row < 100; row++) {
            for (int seed = 0; seed < 100; seed++) {
                int k = row * 100 + seed;
                s.add(new ProbeScore(row, seed, ProbeKind.GENERALISATION, 0, 0.3, k < 8802 ? 0.7 : 0.2));
                s.add(new ProbeScore(row, seed, ProbeKind.SPECIFICITY, 0, k < 7918 ? 0.7 : 0.2, 0.3));
            }
        }
        assertEquals(83.48, 100 * Metrics.aggregate(s).overall().mean(Metric.F1), 0.005);
    }

    @Test
    void aggregate_duplicateScore_isRefusedNamingIt() {
        List<ProbeScore> s = new ArrayList<>(twoRowsThreeSeeds());
        s.add(new ProbeScore(1, 2, ProbeKind.GENERALISATION, 3, 0.5, 0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Metrics.aggregate(s));
        assertTrue(e.getMessage().contains("row 1, seed 2, GENERALISATION 3"), e.getMessage());
    }

    @Test
    void probeScore_badProbability_isRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ProbeScore(0, 0, ProbeKind.EFFICACY, 0, Double.NaN, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new ProbeScore(0, 0, ProbeKind.EFFICACY, 0, 0.5, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new ProbeScore(-1, 0, ProbeKind.EFFICACY, 0, 0.5, 0.5));
    }

    @Test
    void success_tiesFailForEveryKind() {
        for (ProbeKind k : ProbeKind.values()) {
            assertFalse(new ProbeScore(0, 0, k, 0, 0.5, 0.5).success(), k.toString());
        }
        assertTrue(new ProbeScore(0, 0, ProbeKind.SPECIFICITY, 0, 0.6, 0.4).success());
        assertFalse(new ProbeScore(0, 0, ProbeKind.GENERALISATION, 0, 0.6, 0.4).success());
    }
}
