package dev.refact.core.eval;

import java.util.Objects;

/**
 * A generalisation probe: a prompt related to the edited subject whose image should change.
 *
 * <p>Scored by the classifier over {@code [oldText, newText]}; success is {@code p(new) > p(old)}.
 * RoAD: {@code Positive{i}}, {@code Positive_old{i}}, {@code Positive_new{i}},
 * {@code Positive_oracle{i}}; TIME: {@code positive{i}}, {@code positive{i}}, {@code gt{i}},
 * {@code gt{i}}.
 *
 * @param prompt       the text-to-image prompt, e.g. "The United States President playing guitar"
 * @param oldText      classifier text for the source reading, e.g. "Donald Trump playing guitar"
 * @param newText      classifier text for the target reading, e.g. "Joe Biden playing guitar"
 * @param oraclePrompt the explicit prompt an unedited (oracle) model gets instead, or {@code null}
 *                     when the dataset has none (RoAD validation)
 */
public record PositiveProbe(String prompt, String oldText, String newText, String oraclePrompt) {
    /**
     * @param prompt       the text-to-image prompt, not null
     * @param oldText      classifier text for the source reading, not null
     * @param newText      classifier text for the target reading, not null
     * @param oraclePrompt the oracle's prompt, or {@code null} when the dataset has none
     * @throws NullPointerException if prompt, oldText or newText is null
     */
    public PositiveProbe {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(oldText, "oldText");
        Objects.requireNonNull(newText, "newText");
    }
}
