package dev.refact.core;

/**
 * Receives progress of an edit. Every method has an empty default; implementations must be cheap
 * (they run on the editing thread).
 */
public interface ProgressListener {
    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /**
     * A phase starts: {@code keys}, {@code solve}, {@code value}, {@code update}.
     *
     * @param request the request being edited (for a joint edit, the first request of the batch or of the call)
     * @param phase   the phase name, one of the four above
     */
    default void phase(EditRequest request, String phase) {
    }

    /**
     * One v* step finished.
     *
     * @param request           the request whose search made the step
     * @param step              0-based step
     * @param loss              the loss before the step's update
     * @param targetProbability mean p(target) before the update
     */
    default void step(EditRequest request, int step, double loss, double targetProbability) {
    }

    /**
     * An edit of a batch finished ({@code index} of {@code total}, 0-based).
     *
     * @param request the request just applied
     * @param index   its 0-based position in the list
     * @param total   the number of requests in the list
     */
    default void edited(EditRequest request, int index, int total) {
    }
}
