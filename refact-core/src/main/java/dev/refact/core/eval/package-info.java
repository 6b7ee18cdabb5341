/**
 * Evaluation of edits, as in the paper: {@link dev.refact.core.eval.Datasets} reads RoAD and TIME CSVs
 * into {@link dev.refact.core.eval.EvalCase}s; text-space two-way probes
 * ({@link dev.refact.core.eval.TextSpaceEvaluator}) score edits without images;
 * {@link dev.refact.core.eval.Metrics} turns two-way classifier probabilities into efficacy,
 * generalisation, specificity and F1 (mean ± std over seeds, per row and overall).
 *
 * <p>{@link dev.refact.core.eval.EvaluationRunner} runs a whole dataset (refact / baseline / oracle modes,
 * a resumable JSON-lines results file, sequential edits), {@link dev.refact.core.eval.SweepRunner} a grid of
 * layer × N contrastive × lr, and {@code dev.refact.report.EvaluationReport} (module refact-report) writes
 * markdown, CSV and PNG reports with the paper's numbers beside ours. Scoring is pluggable ({@link dev.refact.core.eval.ProbeScorer}):
 * text space here, generated images in the command line's {@code refact eval}.
 */
package dev.refact.core.eval;
