/**
 * The ReFACT editor. Start at {@link dev.refact.core.Pretrained} (model, tokenizer and cached statistics in one
 * object) or at {@link dev.refact.core.Editor}: requests ({@link dev.refact.core.EditRequest}) in,
 * {@link dev.refact.core.EditResult} out; see {@link dev.refact.core.Hyperparameters} for every setting of the
 * method. Saved edits ({@link dev.refact.core.SavedEdit}) apply to another instance of the model and return the
 * same undoable handle ({@link dev.refact.core.AppliedEdit}).
 *
 * <p>Resources: {@code Pretrained}, {@code ClipTextModel} and {@code CovarianceStats} own native memory and are
 * {@code AutoCloseable}; everything else here is plain Java data (arrays are copied in and out). After
 * {@code close()} every method throws {@code IllegalStateException("... closed")}.
 *
 * <p>Misuse fails fast with one-line messages: a model being edited by another thread
 * ({@code IllegalStateException}), statistics computed on other weights ({@code IllegalArgumentException} unless
 * {@link dev.refact.core.Editor.Builder#allowStatisticsOfOtherModels}), an edit applied twice ("already applied"),
 * an edit undone twice ("already undone") or out of order.
 *
 * <pre>{@code
 * try (Pretrained sd = Pretrained.load(Path.of("stable-diffusion-v1-5"))) {
 *     EditResult r = sd.edit(EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden"));
 *     r.undo();
 * }
 * }</pre>
 */
package dev.refact.core;
