package dev.refact.core.eval;

import java.util.Locale;

/**
 * What the {@link EvaluationRunner} does to the model before scoring a row (the paper's three columns).
 */
public enum EvalMode {
    /** Edit a clean model with the row's request, score, undo. */
    REFACT,
    /** Score the unedited model on the row's prompts (the paper's "baseline"). */
    BASELINE,
    /**
     * Score the unedited model on the explicit oracle prompts ("Joe Biden as the President of the United
     * States"); negatives keep their own prompts. Rows without oracle prompts are skipped and reported.
     */
    ORACLE;

    /**
     * The lower-case name used on the command line and in files ({@code refact}, {@code baseline}, {@code oracle}).
     *
     * @return the constant's name in lower case
     */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@link #key()} (case-insensitive).
     *
     * @param s the key; surrounding whitespace is ignored; not null
     * @return the mode whose key matches
     * @throws IllegalArgumentException naming the accepted values
     */
    public static EvalMode parse(String s) {
        for (EvalMode m : values()) {
            if (m.key().equalsIgnoreCase(s.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + s + "' (expected refact, baseline or oracle)");
    }
}
