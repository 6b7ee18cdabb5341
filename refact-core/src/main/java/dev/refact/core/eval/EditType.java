package dev.refact.core.eval;

/** What an edit changes (RoAD's {@code Type} column; every TIME row is an appearance edit). */
public enum EditType {
    /** A position filled by a person ("The President of the United States" → Joe Biden). */
    ROLE,
    /** The look of an object ("A banana" → "A blue banana"); the source text is the prompt itself. */
    APPEARANCE
}
