package dev.refact.core.stats;

/**
 * Progress of {@link CovarianceStats#compute}, reported after every batch and once at the end.
 *
 * @param texts           texts counted so far (including those restored from a checkpoint)
 * @param tokens          keys (tokens) counted so far (including those restored from a checkpoint)
 * @param seconds         seconds since this computation started
 * @param tokensPerSecond tokens counted by this computation (not restored ones) per second
 * @param finished        true for the last report
 */
public record StatsProgress(long texts, long tokens, double seconds, double tokensPerSecond, boolean finished) {
}
