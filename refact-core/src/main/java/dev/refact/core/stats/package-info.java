/**
 * Covariance statistics of MLP keys. Entry type: {@link dev.refact.core.stats.CovarianceStats}.
 */
package dev.refact.core.stats;
