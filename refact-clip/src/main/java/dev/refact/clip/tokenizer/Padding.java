package dev.refact.clip.tokenizer;

/**
 * How {@link ClipTokenizer#inputIds(String, int, Padding)} fills a sequence up to its length.
 */
public enum Padding {
    /** Pad with the end token 49407 {@code <|endoftext|>}: Stable Diffusion / HF {@code CLIPTokenizer}. */
    END_TOKEN,
    /** Pad with id 0: openai/CLIP {@code clip.tokenize}. */
    ZERO,
    /** No padding: the sequence is start + ids + end, at most {@code maxLength} long. */
    NONE
}
