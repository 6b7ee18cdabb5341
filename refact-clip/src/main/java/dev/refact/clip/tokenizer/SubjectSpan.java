package dev.refact.clip.tokenizer;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Where a subject's tokens sit in a prompt's input-id sequence, counting the start token
 * {@code <|startoftext|>} as position 0 (so the first text token is position 1).
 *
 * <p>Found by {@link ClipTokenizer#locateSubject(String, String)}. ReFACT/ROME read the hidden state
 * at {@link #lastTokenPosition()}.
 *
 * @param start  position of the subject's first token (inclusive, at least 1)
 * @param end    position after the subject's last token (exclusive)
 * @param tokens the subject's BPE tokens, e.g. {@code [the</w>, president</w>, ...]}
 */
public record SubjectSpan(int start, int end, List<String> tokens) {
    /**
     * Validates the span and copies {@code tokens}.
     *
     * @param start  position of the subject's first token, at least 1
     * @param end    position after the subject's last token, greater than {@code start}
     * @param tokens the subject's BPE tokens, exactly {@code end - start} of them (copied, unmodifiable)
     * @throws IllegalArgumentException if the range is empty, starts before 1, or does not match
     *                                  {@code tokens}
     */
    public SubjectSpan {
        tokens = List.copyOf(tokens);
        if (start < 1 || end <= start || tokens.size() != end - start) {
            throw new IllegalArgumentException("bad subject span [" + start + ", " + end + ") with "
                    + tokens.size() + " tokens");
        }
    }

    /**
     * Position of the subject's last token (the one ReFACT edits at).
     *
     * @return {@code end - 1}, an index into the input ids (0 is the start token)
     */
    public int lastTokenPosition() {
        return end - 1;
    }

    /**
     * Number of subject tokens.
     *
     * @return {@code end - start}, at least 1
     */
    public int length() {
        return end - start;
    }

    /**
     * All positions {@code start, ..., end - 1}.
     *
     * @return a new array of the subject's positions in the input ids, ascending
     */
    public int[] positions() {
        return IntStream.range(start, end).toArray();
    }
}
