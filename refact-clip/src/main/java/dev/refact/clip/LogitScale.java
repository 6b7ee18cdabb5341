package dev.refact.clip;

import java.util.Locale;

/** The temperature of zero-shot logits: {@code logits = scale · cos(image, text)}. */
public enum LogitScale {
    /**
     * A fixed 100, as ReFACT's evaluation ({@code test_clip_score.py}: {@code softmax(100 · cos)}) and
     * the OpenCLIP zero-shot recipe use; ≈ {@code exp(logit_scale)} of trained OpenAI/LAION models.
     */
    FIXED_100("fixed100"),
    /** The model's own {@code exp(logit_scale)}, as HF {@code CLIPModel.logits_per_image}. */
    MODEL("model");

    private final String cliName;

    LogitScale(String cliName) {
        this.cliName = cliName;
    }

    /**
     * The command-line spelling: {@code fixed100} or {@code model}.
     *
     * @return {@code "fixed100"} or {@code "model"}
     */
    public String cliName() {
        return cliName;
    }

    /**
     * Parses {@code fixed100} or {@code model} (case-insensitive).
     *
     * @param s the spelling; surrounding whitespace is ignored and the enum constant name is also accepted
     * @return the matching scale
     * @throws IllegalArgumentException for anything else
     */
    public static LogitScale parse(String s) {
        for (LogitScale v : values()) {
            if (v.cliName.equalsIgnoreCase(s.strip()) || v.name().equalsIgnoreCase(s.strip())) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown logit scale '" + s + "': use fixed100 or model");
    }

    @Override
    public String toString() {
        return cliName.toLowerCase(Locale.ROOT);
    }
}
