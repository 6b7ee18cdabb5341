/**
 * Evaluation of edits, as in the paper: {@link dev.refact.core.eval.Datasets} reads RoAD and TIME CSVs
 * into {@link dev.refact.core.eval.EvalCase}s; text-space two-way probes
 * ({@link dev.refact.core.eval.TextSpaceEvaluator}) score edits without images;
 * {@link dev.refact.core.eval.Metrics} turns two-way classifier probabilities into efficacy,
 * generalisation, specificity and F1 (mean ± std over seeds, per row and overall).
 */
package dev.refact.core.eval;
