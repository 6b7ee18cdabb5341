package dev.refact.core.eval;

import dev.refact.core.Hyperparameters;
import java.io.Serializable;
import java.util.Objects;

/**
 * One cell of an evaluation, setting × row × seed, as a small serializable value that any JVM can compute
 * from shared resources (see {@link CellExecutor}): the mode, the setting's hyperparameters as JSON, the dataset
 * row and the seed.
 *
 * @param mode            the evaluation mode
 * @param hyperparameters the setting ({@link Hyperparameters#toJson()}); {@code null} unless the mode is
 *                        {@link EvalMode#REFACT}
 * @param row             the dataset row ({@link EvalCase#row()}), at least 0
 * @param seed            the seed (0 for text space), at least 0
 *
 * @serial exclude (shipped between JVMs by Spark; the form is the record components above)
 */
public record CellSpec(EvalMode mode, String hyperparameters, int row, int seed) implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * Validates.
     *
     * @param mode            the evaluation mode, not null
     * @param hyperparameters the setting as {@link Hyperparameters#toJson()}: required in refact mode, else
     *                        {@code null}
     * @param row             the dataset row, at least 0
     * @param seed            the seed, at least 0
     * @throws NullPointerException     if {@code mode} is null
     * @throws IllegalArgumentException if row or seed is negative, or the hyperparameters are missing in
     *                                  refact mode (or present in another mode)
     */
    public CellSpec {
        Objects.requireNonNull(mode, "mode");
        if (row < 0 || seed < 0) {
            throw new IllegalArgumentException("cell row and seed must be >= 0, got row " + row + ", seed " + seed);
        }
        if ((mode == EvalMode.REFACT) != (hyperparameters != null)) {
            throw new IllegalArgumentException("a " + mode.key() + " cell " + (hyperparameters == null
                    ? "needs hyperparameters" : "has no hyperparameters"));
        }
    }

    /**
     * The setting's hyperparameters, parsed ({@code null} outside refact mode).
     *
     * @return a new {@link Hyperparameters} parsed from {@link #hyperparameters()} on each call, or {@code null}
     */
    public Hyperparameters settings() {
        return hyperparameters == null ? null : Hyperparameters.fromJson(hyperparameters);
    }
}
