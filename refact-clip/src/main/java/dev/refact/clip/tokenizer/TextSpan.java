package dev.refact.clip.tokenizer;

/**
 * A range {@code [start, end)} of UTF-16 char indices in {@link Tokenization#cleanedText()}.
 *
 * @param start first char index (inclusive)
 * @param end   char index after the last char (exclusive)
 */
public record TextSpan(int start, int end) {
    /**
     * Validates the range.
     *
     * @param start first char index (inclusive), at least 0
     * @param end   char index after the last char (exclusive), at least {@code start}
     * @throws IllegalArgumentException if {@code start < 0} or {@code end < start}
     */
    public TextSpan {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
        }
    }

    /**
     * The text of this span in {@code text}.
     *
     * @param text the text the span indexes, normally {@link Tokenization#cleanedText()}
     * @return {@code text.substring(start, end)}
     * @throws IndexOutOfBoundsException if {@code end > text.length()}
     */
    public String of(String text) {
        return text.substring(start, end);
    }
}
