package dev.refact.core.eval;

import java.util.List;
import java.util.Objects;

/**
 * The curve of a sequential-edit run ({@link EvaluationRunner#runSequential}).
 *
 * @param setup   what was run
 * @param every   rows edited between two points
 * @param points  the curve, in order of {@link SequentialPoint#edits()}
 * @param edits   what each successful edit did, in row order
 * @param failed  rows whose edit failed (not scored, not counted as edited)
 * @param skipped rows never edited (e.g. the run was given rows without oracle prompts in oracle mode)
 */
public record SequentialResult(EvaluationSetup setup, int every, List<SequentialPoint> points,
                               List<EditSummary> edits, List<SkippedRow> failed, List<SkippedRow> skipped) {
    /**
     * Copies the lists.
     *
     * @param setup   what was run, not null
     * @param every   rows edited between two points
     * @param points  the curve; copied
     * @param edits   what each successful edit did; copied
     * @param failed  rows whose edit failed; copied
     * @param skipped rows never edited; copied
     * @throws NullPointerException if {@code setup} or a list is null
     */
    public SequentialResult {
        Objects.requireNonNull(setup, "setup");
        points = List.copyOf(points);
        edits = List.copyOf(edits);
        failed = List.copyOf(failed);
        skipped = List.copyOf(skipped);
    }
}
