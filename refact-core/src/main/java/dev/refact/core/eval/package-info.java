/**
 * Evaluation of edits: text-space two-way probes ({@link dev.refact.core.eval.TextSpaceEvaluator}), dataset
 * readers for RoAD and TIME, and the metrics of the paper.
 */
package dev.refact.core.eval;
