/**
 * The CLIP text tokenizer: start at {@link dev.refact.clip.tokenizer.ClipTokenizer}.
 *
 * <p>{@code ClipTokenizer.load(dir)} reads an HF {@code tokenizer/} folder (or an openai
 * {@code bpe_simple_vocab_16e6.txt.gz}); {@code inputIds} gives the 77 ids Stable Diffusion feeds to
 * its text encoder, {@code tokenize} the ids with their tokens and character spans, and
 * {@code locateSubject} the token positions of a subject inside a prompt (what ReFACT edits).
 * The text cleanup is a complete port of the reference's ftfy + HTML + whitespace + lower-case steps;
 * see {@code docs/tokenizer.md}.
 */
package dev.refact.clip.tokenizer;
