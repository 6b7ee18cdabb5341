package dev.refact.core.eval;

import java.util.Objects;

/**
 * Something noteworthy in a dataset that does not stop it from being used: a repeated edit prompt
 * (TIME's {@code old} column is not unique), an exact duplicate row, a probe text that looks like a
 * known data-entry slip.
 *
 * @param severity {@link Severity#INFO} (expected, e.g. a repeated TIME prompt with another target)
 *                 or {@link Severity#WARNING} (probably a mistake in the data)
 * @param line     1-based line of the row concerned
 * @param message  what was found, naming rows, columns and texts
 */
public record DatasetIssue(Severity severity, int line, String message) {
    /** How serious an issue is. */
    public enum Severity {
        /** Expected and harmless. */
        INFO,
        /** Probably a mistake in the data; results for the row may be misleading. */
        WARNING
    }

    /**
     * @param severity {@link Severity#INFO} or {@link Severity#WARNING}, not null
     * @param line     1-based line of the row concerned
     * @param message  what was found, not null
     * @throws NullPointerException if severity or message is null
     */
    public DatasetIssue {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return severity + " line " + line + ": " + message;
    }
}
