/**
 * CLIP on libtorch. Entry type: {@link dev.refact.clip.ClipTextModel} (load a Hugging Face or diffusers
 * text encoder, encode token ids, and the hooks the editor uses); {@link dev.refact.clip.ClipTextConfig}
 * is its architecture. Tokenization lives in {@code dev.refact.clip.tokenizer}, checkpoint formats in
 * {@code dev.refact.clip.io}.
 */
package dev.refact.clip;
