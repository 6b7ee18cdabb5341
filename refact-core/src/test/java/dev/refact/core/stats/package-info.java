/**
 * Tests of covariance statistics: compute against a brute-force reference and the tiny golden, batching, limits,
 * checkpoints, the file format, NPZ import, solving, corpora. Fixtures come from {@code ../shared/data} (read in
 * place) through {@link dev.refact.clip.testing.SharedData}.
 */
package dev.refact.core.stats;
