package dev.refact.cli;

import dev.refact.core.eval.CellExecutor;

/**
 * Where {@code eval-text}, {@code eval} and {@code sweep} compute their cells when not in their own loop: the
 * optional {@code refact-spark} module passes one to {@link RefactCommand#execute(String[], java.io.PrintWriter,
 * java.io.PrintWriter, CellBackend)}. The command still reads the dataset, checks the configuration, writes
 * {@code results.jsonl}, the report and the JSON summary; the backend only computes cells.
 */
@FunctionalInterface
public interface CellBackend {

    /**
     * An executor for one run (one setting of a sweep) whose cells {@code recipe} computes.
     *
     * @param recipe serializable; ship it to the workers and call {@link CellRecipe#compute} there
     * @return the executor
     */
    CellExecutor executor(CellRecipe recipe);
}
