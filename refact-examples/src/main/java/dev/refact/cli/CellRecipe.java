package dev.refact.cli;

import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.CellSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * How an evaluation command's cells are computed in any JVM: a small serializable value (absolute paths and
 * settings, never tensors) that an executor turns into a {@link CellResult} for a {@link CellSpec}. The model,
 * statistics, tokenizer, dataset (and for {@code eval} the Stable Diffusion pipeline and classifier) are loaded
 * from the recipe's paths the first time a JVM needs them and kept for the JVM's life, one copy per concurrently
 * running task: a copy is used by one cell at a time (an edit changes the model's weights until it is undone), so
 * two tasks in one JVM never touch the same model.
 */
public interface CellRecipe extends Serializable {

    /**
     * Computes one cell on a clean model from this JVM's cache. A row the editor refuses is returned as a failed
     * {@link CellResult} ({@code error} set), exactly as {@code bin/refact} records it. The model copy is clean
     * again when this returns or throws.
     *
     * @param cell the cell
     * @return its result
     * @throws IOException      if the resources cannot be loaded (missing file on this machine, bad statistics);
     *                          the task fails and the scheduler may retry it elsewhere
     * @throws RuntimeException if computing the cell failed (e.g. out of device memory): the caller retries it,
     *                          and records it as a failed cell when every attempt failed
     */
    CellResult compute(CellSpec cell) throws IOException;

    /**
     * The device the models are loaded on.
     *
     * @return {@code cpu}, {@code cuda} or {@code cuda:N}
     */
    String device();

    /**
     * The same recipe with the models on another device (a scheduler that assigns GPUs to tasks uses it to put
     * each task on its own GPU); copies for different devices are cached separately.
     *
     * @param device {@code cpu}, {@code cuda} or {@code cuda:N}
     * @return the recipe for that device
     */
    CellRecipe withDevice(String device);

    /**
     * Driver side, before cells go to other machines: the statistics files that cells editing these layers need and
     * that no shared file provides (no {@code --stats}), computed once in this JVM (or found in its statistics
     * cache), one file per layer, so that a scheduler can copy them to every machine instead of each machine
     * computing them again. The default: nothing to ship.
     *
     * @param layers the layers the cells about to run edit (empty when they only score)
     * @param log    where progress and cache messages go
     * @return an absolute file per layer of {@code layers}; empty when statistics come from {@code --stats} or no
     *         cell edits
     * @throws IOException if the model cannot be loaded, or the statistics cannot be computed or written
     */
    default Map<Integer, Path> statisticsToShip(Set<Integer> layers, PrintWriter log) throws IOException {
        return Map.of();
    }

    /**
     * The same recipe reading the statistics of these layers from local copies of the files of
     * {@link #statisticsToShip} (where the scheduler put them on this machine) instead of computing them. The
     * default: the recipe itself (it ships nothing).
     *
     * @param files a readable file per layer, as {@link #statisticsToShip} listed them
     * @return the recipe with those files
     */
    default CellRecipe withStatisticsFiles(Map<Integer, Path> files) {
        return this;
    }
}
