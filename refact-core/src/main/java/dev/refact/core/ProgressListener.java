package dev.refact.core;

/**
 * Receives progress of an edit. Every method has an empty default; implementations must be cheap
 * (they run on the editing thread).
 */
public interface ProgressListener {
    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** A phase starts: {@code keys}, {@code solve}, {@code value}, {@code update}. */
    default void phase(EditRequest request, String phase) {
    }

    /**
     * One v* step finished.
     *
     * @param step              0-based step
     * @param loss              the loss before the step's update
     * @param targetProbability mean p(target) before the update
     */
    default void step(EditRequest request, int step, double loss, double targetProbability) {
    }

    /** An edit of a batch finished ({@code index} of {@code total}, 0-based). */
    default void edited(EditRequest request, int index, int total) {
    }
}
