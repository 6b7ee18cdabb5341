/**
 * Evaluation reports of refact-core results ({@code dev.refact.core.eval}): markdown for people, CSV for tools,
 * PNG charts. {@link dev.refact.report.EvaluationReport} is the entry point. Separate from refact-core so that the
 * core library does not pull in AWT or a chart library.
 */
package dev.refact.report;
