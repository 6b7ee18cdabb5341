package dev.refact.core;

import java.util.Locale;
import java.util.Objects;

/**
 * One factual edit: make the text encoder read {@code subject} (inside {@code prompt}) as
 * {@code target} instead of {@code source}.
 *
 * <p>Example (a RoAD "Role" row): prompt "The President of the United States", subject = prompt,
 * source "Donald Trump", target "Joe Biden". For an appearance edit (TIME row) the source is the
 * prompt itself: prompt "A banana", source "A banana", target "A blue banana".
 *
 * <p>Matching of the subject is case-insensitive because the CLIP tokenizer lower-cases text.
 * The length limit (77 tokens including start and end) is checked by the editor, which owns the
 * tokenizer.
 *
 * @param prompt  the editing prompt; not blank
 * @param subject the span of {@code prompt} whose meaning changes; defaults to the whole prompt
 * @param source  the current association (contrastive negative), e.g. "Donald Trump"; not blank
 * @param target  the new association, e.g. "Joe Biden"; not blank and different from {@code source}
 */
public record EditRequest(String prompt, String subject, String source, String target) {

    /**
     * Validates and normalises the request (trims; a null subject becomes the prompt).
     *
     * @throws NullPointerException     if prompt, source or target is null
     * @throws IllegalArgumentException if a string is blank, the subject does not occur in the prompt,
     *                                  or source and target are the same text
     */
    public EditRequest {
        prompt = requireText(prompt, "prompt");
        subject = subject == null ? prompt : requireText(subject, "subject");
        source = requireText(source, "source");
        target = requireText(target, "target");
        if (!prompt.toLowerCase(Locale.ROOT).contains(subject.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(
                    "subject \"" + subject + "\" does not occur in prompt \"" + prompt + "\"");
        }
        if (source.equalsIgnoreCase(target)) {
            throw new IllegalArgumentException("source and target are the same text \"" + source
                    + "\": an edit needs a different target");
        }
    }

    /** A request whose subject is the whole prompt (ReFACT's default for RoAD and TIME rows). */
    public static EditRequest of(String prompt, String source, String target) {
        return new EditRequest(prompt, null, source, target);
    }

    private static String requireText(String s, String name) {
        Objects.requireNonNull(s, name);
        String t = s.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException(name + " is blank");
        }
        return t;
    }
}
