package dev.refact.clip.tokenizer;

import java.util.List;

/**
 * The full tokenization of one text: ids with the start and end tokens, no padding, no truncation.
 *
 * <p>{@code ids}, {@code tokens} and {@code spans} have the same length; element 0 is
 * {@code <|startoftext|>} (span {@code [0, 0)}) and the last is {@code <|endoftext|>} (span
 * {@code [n, n)} with {@code n = cleanedText.length()}). Each other span covers the chars of
 * {@code cleanedText} whose UTF-8 bytes the token holds; when BPE splits inside one character
 * (e.g. an emoji's bytes), the neighbouring tokens' spans both cover that character.
 *
 * @param cleanedText the text after CLIP's cleanup (ftfy, HTML unescape, whitespace collapse, lower case)
 * @param ids         token ids, starting with 49406 and ending with 49407
 * @param tokens      BPE token strings, e.g. {@code cat</w>}
 * @param spans       char ranges in {@code cleanedText}
 */
public record Tokenization(String cleanedText, List<Integer> ids, List<String> tokens, List<TextSpan> spans) {
    /**
     * Validates the lengths and copies the lists.
     *
     * @param cleanedText the text after CLIP's cleanup
     * @param ids         token ids, start and end tokens included (copied, unmodifiable)
     * @param tokens      BPE token strings, one per id (copied, unmodifiable)
     * @param spans       char ranges in {@code cleanedText}, one per id (copied, unmodifiable)
     * @throws IllegalArgumentException if the three lists differ in length
     */
    public Tokenization {
        ids = List.copyOf(ids);
        tokens = List.copyOf(tokens);
        spans = List.copyOf(spans);
        if (ids.size() != tokens.size() || ids.size() != spans.size()) {
            throw new IllegalArgumentException("ids, tokens and spans differ in length: " + ids.size() + ", "
                    + tokens.size() + ", " + spans.size());
        }
    }

    /**
     * The ids as an array.
     *
     * @return a new array of {@link #size()} ids, start and end tokens included
     */
    public int[] idArray() {
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Number of tokens including start and end.
     *
     * @return the length of {@code ids}, {@code tokens} and {@code spans}, at least 2 for a tokenizer's result
     */
    public int size() {
        return ids.size();
    }
}
