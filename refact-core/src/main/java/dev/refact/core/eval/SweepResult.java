package dev.refact.core.eval;

import dev.refact.core.Hyperparameters;
import java.util.List;
import java.util.Objects;

/**
 * A sweep's table: one {@link SweepPoint} per (layer, N, lr), layer outermost.
 *
 * @param dataset the dataset
 * @param rows    the rows evaluated at every point
 * @param base    the hyperparameters the swept values were put into
 * @param points  the settings and their evaluations
 */
public record SweepResult(Dataset dataset, List<EvalCase> rows, Hyperparameters base, List<SweepPoint> points) {
    /**
     * Copies the lists.
     *
     * @param dataset the dataset, not null
     * @param rows    the rows evaluated at every point; copied
     * @param base    the hyperparameters the swept values were put into, not null
     * @param points  the settings and their evaluations, layer outermost; copied
     * @throws NullPointerException if {@code dataset}, {@code base} or a list is null
     */
    public SweepResult {
        Objects.requireNonNull(dataset, "dataset");
        rows = List.copyOf(rows);
        Objects.requireNonNull(base, "base");
        points = List.copyOf(points);
    }
}
