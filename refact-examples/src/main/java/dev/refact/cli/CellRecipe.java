package dev.refact.cli;

import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.CellSpec;
import java.io.IOException;
import java.io.Serializable;

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

    /** The device the models are loaded on: {@code cpu}, {@code cuda} or {@code cuda:N}. */
    String device();

    /**
     * The same recipe with the models on another device (a scheduler that assigns GPUs to tasks uses it to put
     * each task on its own GPU); copies for different devices are cached separately.
     *
     * @param device {@code cpu}, {@code cuda} or {@code cuda:N}
     */
    CellRecipe withDevice(String device);
}
