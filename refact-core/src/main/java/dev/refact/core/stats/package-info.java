/**
 * Covariance statistics of MLP keys: {@code C = E[k kᵀ]} of a layer's fc2 inputs over a text corpus, as the
 * ReFACT update needs it. Entry type: {@link dev.refact.core.stats.CovarianceStats} (compute, save, load, import
 * the Python code's {@code .npz}, solve); options {@link dev.refact.core.stats.StatsOptions}; corpora
 * {@link dev.refact.core.stats.Corpora}; a folder of statistics keyed by model fingerprint, layer and corpus
 * {@link dev.refact.core.stats.StatisticsCache}. See {@code docs/statistics.md}.
 */
package dev.refact.core.stats;
