/**
 * CLIP on libtorch. Entry type: {@link dev.refact.clip.ClipTextModel} (load a Hugging Face or diffusers
 * text encoder; encode texts to plain arrays with {@code encode(tokenizer, text)} →
 * {@link dev.refact.clip.EncodedText}; the engine-level hooks the editor uses); {@link dev.refact.clip.ClipTextConfig}
 * is its architecture. Tokenization lives in {@code dev.refact.clip.tokenizer}, checkpoint formats in
 * {@code dev.refact.clip.io}.
 *
 * <p><b>Ownership</b> (one rule for the whole library, see {@code docs/architecture.md}): a model owns its weights
 * and frees them in {@code close()}; afterwards every method throws {@code IllegalStateException("... is closed")}.
 * Engine-level methods that return tensors or tensor holders ({@link dev.refact.clip.TextEncoding},
 * {@link dev.refact.clip.MlpTrace}, {@link dev.refact.clip.SuffixCache}) hand them to the innermost open
 * {@link dev.refact.clip.TensorScope} on the calling thread, which frees them when it closes; with no scope open
 * the caller closes them. A holder owns its tensors privately (one owner per tensor), is handed off as one unit,
 * and may be closed early.
 *
 * <p><b>Process-wide state</b>: none on class load. The natives load on first use with the configuration from
 * {@link dev.refact.clip.NativeRuntime#configure(int)} and {@link dev.refact.clip.NativeRuntime#useBlas} or the
 * default (OpenBLAS, or Intel oneMKL when its preset is on the class path; 1 torch intra-op thread with OpenBLAS, one
 * per core with MKL; NNPACK off); diagnostics go to {@code System.Logger}.
 *
 * <pre>{@code
 * try (ClipTextModel model = ClipTextModel.load(Path.of("stable-diffusion-v1-5"))) {
 *     ClipTokenizer tokenizer = ClipTokenizer.load(Path.of("stable-diffusion-v1-5"));
 *     double s = model.encode(tokenizer, "a cat").cosineSimilarity(model.encode(tokenizer, "a kitten"));
 * }
 * }</pre>
 */
package dev.refact.clip;
