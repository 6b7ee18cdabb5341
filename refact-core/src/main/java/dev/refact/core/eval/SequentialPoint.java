package dev.refact.core.eval;

import java.time.Duration;

/**
 * One point of a sequential-edit curve: after {@code edits} edits applied one after another to one model, all
 * rows edited so far are scored.
 *
 * @param edits       edits attempted so far (rows processed)
 * @param rowsEdited  rows whose edit succeeded and that were scored at this point
 * @param metrics     efficacy, generalisation, specificity, F1 over those rows (and seeds)
 * @param elapsed     time since the run started
 */
public record SequentialPoint(int edits, int rowsEdited, MetricsReport metrics, Duration elapsed) {
}
