package dev.refact.core.eval;

/** Which property an image probe measures. */
public enum ProbeKind {
    /** The edit prompt's image shows the target: success when {@code p(new) > p(old)}. */
    EFFICACY,
    /** A related prompt's image shows the target: success when {@code p(new) > p(old)}. */
    GENERALISATION,
    /** An unrelated prompt's image is unchanged: success when {@code p(old) > p(new)}. */
    SPECIFICITY
}
