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
 * @param subject the span of {@code prompt} whose meaning changes; defaults to the whole prompt without
 *                trailing punctuation, symbols (emoji) and spaces ({@link #defaultSubject(String)})
 * @param source  the current association (contrastive negative), e.g. "Donald Trump"; not blank
 * @param target  the new association, e.g. "Joe Biden"; not blank and different from {@code source}
 */
public record EditRequest(String prompt, String subject, String source, String target) {

    /**
     * Validates and normalises the request (trims; a null subject becomes {@link #defaultSubject(String)} of the
     * prompt).
     *
     * @param prompt  the editing prompt; stripped, not blank
     * @param subject the span of {@code prompt} whose meaning changes (case-insensitive match), or null for
     *                {@link #defaultSubject(String)}; stripped
     * @param source  the current association; stripped, not blank
     * @param target  the new association; stripped, not blank, different from {@code source} ignoring case
     * @throws NullPointerException     if prompt, source or target is null
     * @throws IllegalArgumentException if a string is blank, the subject does not occur in the prompt,
     *                                  or source and target are the same text
     */
    public EditRequest {
        prompt = requireText(prompt, "prompt");
        subject = subject == null ? defaultSubject(prompt) : requireText(subject, "subject");
        source = requireText(source, "source");
        target = requireText(target, "target");
        if (!prompt.toLowerCase(Locale.ROOT).contains(subject.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("subject " + dev.refact.clip.io.TextFiles.abbreviate(subject, 200)
                    + " does not occur in prompt " + dev.refact.clip.io.TextFiles.abbreviate(prompt, 200));
        }
        if (source.equalsIgnoreCase(target)) {
            throw new IllegalArgumentException("source and target are the same text "
                    + dev.refact.clip.io.TextFiles.abbreviate(source, 200) + ": an edit needs a different target");
        }
    }

    /**
     * A request whose subject is the whole prompt (ReFACT's default for RoAD and TIME rows).
     *
     * @param prompt the editing prompt, also the subject (as {@link #defaultSubject(String)}: without trailing
     *               punctuation and symbols)
     * @param source the current association, e.g. "Donald Trump"
     * @param target the new association, e.g. "Joe Biden"
     * @return the validated request
     * @throws NullPointerException     if prompt, source or target is null
     * @throws IllegalArgumentException if a string is blank or source and target are the same text
     */
    public static EditRequest of(String prompt, String source, String target) {
        return new EditRequest(prompt, null, source, target);
    }

    /**
     * The subject used when none is given: the prompt without trailing punctuation, symbols (emoji and their
     * modifiers, variation selectors, joiners) and spaces, so that "A photo of a cat." or "a corgi 🐶" edits
     * "A photo of a cat" / "a corgi" and the subject does not merge with the text the context templates put after
     * it. A prompt that is nothing but such characters is kept whole.
     *
     * @param prompt the prompt (not null)
     * @return the default subject, never blank for a non-blank prompt
     */
    public static String defaultSubject(String prompt) {
        String p = prompt.strip();
        int end = p.length();
        while (end > 0) {
            int cp = p.codePointBefore(end);
            if (!isTrailingNoise(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return end == 0 ? p : p.substring(0, end);
    }

    private static boolean isTrailingNoise(int cp) {
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.END_PUNCTUATION, Character.START_PUNCTUATION, Character.OTHER_PUNCTUATION,
                 Character.DASH_PUNCTUATION, Character.CONNECTOR_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_SYMBOL, Character.MATH_SYMBOL,
                 Character.MODIFIER_SYMBOL, Character.CURRENCY_SYMBOL, Character.FORMAT, Character.ENCLOSING_MARK, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED:
                return true;
            default:
                // skin-tone modifiers, variation selectors (accents and other marks are kept)
                return cp >= 0x1F3FB && cp <= 0x1F3FF || cp >= 0xFE00 && cp <= 0xFE0F || cp >= 0xE0100 && cp <= 0xE01EF;
        }
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
