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

    /** Called after every batch and once when the computation finishes. */
    void progress(StatsProgress progress);
}
