package dev.refact.core.eval;

import java.util.Objects;

/**
 * What one edit of an evaluation did (from {@link dev.refact.core.EditResult}), kept in the results file.
 *
 * @param steps             Adam steps of the v* search
 * @param stopReason        {@code converged} or {@code step_cap} (lower-case {@link dev.refact.core.StopReason})
 * @param targetProbability mean p(target) over the rewriting prompts at the end of the search
 * @param deltaNorm         ‖δ‖ of the final value
 * @param millis            wall time of the edit in milliseconds
 *
 * @serial exclude (shipped between JVMs by Spark; the form is the record components above)
 */
public record EditSummary(int steps, String stopReason, double targetProbability, double deltaNorm, double millis)
        implements java.io.Serializable {
    /**
     * Rejects a null stop reason.
     *
     * @param steps             Adam steps of the v* search
     * @param stopReason        {@code converged} or {@code step_cap}, not null
     * @param targetProbability mean p(target) over the rewriting prompts at the end of the search, in [0, 1]
     * @param deltaNorm         ‖δ‖ of the final value
     * @param millis            wall time of the edit in milliseconds
     * @throws NullPointerException if {@code stopReason} is null
     */
    public EditSummary {
        Objects.requireNonNull(stopReason, "stopReason");
    }

    /**
     * Whether the search stopped because p(target) passed the threshold.
     *
     * @return true if {@code stopReason} is {@code converged}
     */
    public boolean converged() {
        return stopReason.equals("converged");
    }

    /** A summary from an edit's outcome; the stop reason as its lower-case name. */
    static EditSummary of(int steps, dev.refact.core.StopReason reason, double targetProbability, double deltaNorm,
                          double millis) {
        return new EditSummary(steps, reason.name().toLowerCase(java.util.Locale.ROOT), targetProbability, deltaNorm,
                millis);
    }
}
