package dev.refact.core.eval;

import java.util.Objects;

/**
 * One two-way test in text space, the analogue of the paper's image classification: is the (possibly edited)
 * encoder's embedding of {@code prompt} closer to the clean embedding of {@code newText} or of {@code oldText}?
 *
 * <p>Success: for {@link ProbeKind#EFFICACY} and {@link ProbeKind#GENERALISATION}, p(new) &gt; p(old); for
 * {@link ProbeKind#SPECIFICITY}, p(old) &gt; p(new) (the unrelated prompt must keep its meaning), with
 * p = softmax(100·cos) over the two texts.
 *
 * @param kind    what the probe measures
 * @param prompt  the prompt encoded by the model under test
 * @param oldText the "old" class text (source; for specificity the negative prompt itself)
 * @param newText the "new" class text (target; for specificity the leak text)
 */
public record TwoWayProbe(ProbeKind kind, String prompt, String oldText, String newText) {
    /**
     * Rejects nulls.
     *
     * @param kind    what the probe measures
     * @param prompt  the prompt encoded by the model under test
     * @param oldText the "old" class text
     * @param newText the "new" class text
     * @throws NullPointerException if any argument is null
     */
    public TwoWayProbe {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(oldText, "oldText");
        Objects.requireNonNull(newText, "newText");
    }

    /**
     * Whether the probe succeeds given p(new).
     *
     * @param pNew p(new) of this probe, in [0, 1]
     * @return {@code pNew > 0.5}, or {@code pNew < 0.5} for specificity (a tie fails)
     */
    public boolean success(double pNew) {
        return kind == ProbeKind.SPECIFICITY ? pNew < 0.5 : pNew > 0.5;
    }
}
