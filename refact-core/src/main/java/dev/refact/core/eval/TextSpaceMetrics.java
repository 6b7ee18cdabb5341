package dev.refact.core.eval;

/**
 * Text-space success rates in [0,1] (NaN when a kind has no probes).
 *
 * @param efficacy       share of efficacy probes with p(new) &gt; p(old)
 * @param generalisation share of generalisation probes with p(new) &gt; p(old)
 * @param specificity    share of specificity probes with p(old) &gt; p(new)
 * @param nEfficacy      number of efficacy probes
 * @param nGeneralisation number of generalisation probes
 * @param nSpecificity   number of specificity probes
 */
public record TextSpaceMetrics(double efficacy, double generalisation, double specificity, int nEfficacy,
                               int nGeneralisation, int nSpecificity) {
    /**
     * F1 as the paper defines it: the geometric mean of generalisation and specificity.
     *
     * @return √(generalisation · specificity), in [0, 1]; NaN if either is NaN
     */
    public double f1() {
        return Math.sqrt(generalisation * specificity);
    }
}
