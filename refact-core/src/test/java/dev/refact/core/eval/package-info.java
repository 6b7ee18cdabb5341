/**
 * Tests of the dataset readers (shared RoAD/TIME CSVs and broken files), the metric arithmetic, and the
 * evaluation runner, reports and sweeps on the tiny CLIP fixture.
 */
package dev.refact.core.eval;
