package dev.refact.core.eval;

/**
 * A metric's mean and its spread over seeds.
 *
 * @param mean  the mean (fraction in [0, 1])
 * @param std   the population standard deviation over seeds (NumPy {@code np.std}, ddof 0, as ReFACT)
 * @param seeds how many seeds contributed
 */
public record MetricValue(double mean, double std, int seeds) {
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "%.2f ± %.2f", 100 * mean, 100 * std);
    }
}
