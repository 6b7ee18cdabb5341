/**
 * Optional scale-out of the evaluation commands on Apache Spark: {@code bin/refact-spark eval-text|eval|sweep}
 * with the options, files and JSON summary of {@code bin/refact}, each cell (setting × row × seed) one Spark task.
 * Entry type: {@link dev.refact.spark.RefactSpark}; the executor: {@link dev.refact.spark.SparkCellExecutor}.
 * See docs/spark.md.
 */
package dev.refact.spark;
