/** Tests of the dataset readers (shared RoAD/TIME CSVs and broken files) and of the metric arithmetic. */
package dev.refact.core.eval;
