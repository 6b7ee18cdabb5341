package dev.refact.core.eval;

import java.util.Objects;

/**
 * A specificity probe: a related prompt whose image should NOT change.
 *
 * <p>Scored by the classifier over {@code [prompt, newText]}; success is
 * {@code p(prompt) > p(newText)} (the edit did not leak). The oracle and the baseline generate it
 * from {@link #prompt()} itself (ReFACT scores the oracle's specificity on the baseline images).
 * RoAD: {@code Negative{i}}, {@code Negative_new{i}}; TIME: {@code negative{i}}, {@code gn{i}}.
 *
 * @param prompt  the text-to-image prompt and the "old" classifier text, e.g. "A mayor"
 * @param newText classifier text for a leak of the edit, e.g. "Joe Biden"
 */
public record NegativeProbe(String prompt, String newText) {
    /**
     * @param prompt  the text-to-image prompt and "old" classifier text, not null
     * @param newText classifier text for a leak of the edit, not null
     * @throws NullPointerException if a text is null
     */
    public NegativeProbe {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(newText, "newText");
    }

    /**
     * The "old" classifier text: the prompt itself.
     *
     * @return {@link #prompt()}
     */
    public String oldText() {
        return prompt;
    }
}
