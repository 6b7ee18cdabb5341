package dev.refact.core.stats;

/**
 * Receives progress of {@link CovarianceStats#compute}. Runs on the computing thread: keep it cheap. An exception
 * thrown here aborts the computation (a checkpoint already written stays valid).
 */
@FunctionalInterface
public interface StatsListener {
    /** A listener that ignores everything. */
    StatsListener NONE = progress -> {
    };

    /**
     * Called after every batch and once when the computation finishes.
     *
     * @param progress the counts so far; {@link StatsProgress#finished()} is true on the last call
     */
    void progress(StatsProgress progress);
}
