package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import java.util.List;
import java.util.Objects;

/**
 * Applies ReFACT edits to a CLIP text encoder.
 *
 * <pre>{@code
 * Editor editor = Editor.builder()
 *         .tokenizer(tokenizer)
 *         .statistics(stats)                      // C at layer 7
 *         .hyperparameters(Hyperparameters.roleEdits())
 *         .build();
 * EditResult result = editor.edit(model, EditRequest.of(
 *         "The President of the United States", "Donald Trump", "Joe Biden"));
 * result.save(Path.of("president.edit.safetensors"));
 * result.undo();                                  // weights restored bit for bit
 * }</pre>
 *
 * <p>An edit (1) takes the key k̄ (mean fc2 input at the subject's last token over the context templates)
 * and u = C⁻¹k̄/‖C⁻¹k̄‖, (2) searches v* contrastively, (3) adds r uᵀ to {@code layers[L].mlp.fc2.weight}.
 * A failed edit (bad input, divergence, singular C) throws and leaves the weights bit-identical.
 *
 * <p>An editor is immutable and may be shared between threads. Misuse fails fast: a second thread editing the
 * same model while an edit runs gets {@code IllegalStateException("model ... is being edited by another
 * thread")}; statistics whose provenance names other weights are refused (see
 * {@link Builder#allowStatisticsOfOtherModels}); a closed model or closed statistics give
 * {@code IllegalStateException("... closed")}.
 */
public interface Editor {

    /**
     * Edits the model in place.
     *
     * @param model   the text encoder to edit; its {@code fc2} weight at the hyperparameters' layer changes
     * @param request the edit to apply
     * @return the applied edit (plain Java arrays, no native memory); {@link EditResult#undo()} restores the weights
     * @throws IllegalArgumentException if the request does not fit the model (subject not found by the
     *                                  tokenizer, prompt longer than 77 tokens, layer outside the model, statistics
     *                                  of another layer or width)
     * @throws IllegalStateException    if the computation fails (singular statistics, non-finite values), if
     *                                  another thread is editing the model, or if the model or statistics are
     *                                  closed
     * @throws IllegalArgumentException also if the statistics were computed on another model (unless allowed)
     */
    EditResult edit(ClipTextModel model, EditRequest request);

    /**
     * Applies several edits one after another, each on the weights left by the previous one, with the same
     * statistics. All or nothing: if one fails, the edits this call made are undone and the exception is
     * rethrown with the failing request's index.
     *
     * @param model    the text encoder to edit
     * @param requests the edits, applied in order (empty: nothing happens)
     * @return one result per request, in order; undo them newest first
     * @throws IllegalArgumentException if a request does not fit the model (wrapping the cause; earlier edits undone)
     * @throws IllegalStateException    if an edit's computation fails (wrapping the cause; earlier edits undone), or
     *                                  another thread is editing the model
     */
    List<EditResult> edit(ClipTextModel model, List<EditRequest> requests);

    /**
     * Edits all requests with one update {@code W_fc2 ← W_fc2 + Σ_i r_i u_iᵀ} that makes every request hold at
     * once ({@code (W + ΔW) k_b,j + b = v*_j} for all j), with default {@link JointOptions}. The n v* searches run
     * batched, 32 requests per batch (memory stays that of 32 requests' activations for any n: ~2.3 GB at SD size;
     * the n×n system is solved over all of them). For one request this is {@link #edit(ClipTextModel, EditRequest)}
     * bit for bit.
     *
     * @param model    the text encoder to edit
     * @param requests the edits to make at once; at least one
     * @return the applied joint edit, undone as one change
     * @throws EditConflictException    before any weight changes, if requests contradict each other (same subject
     *                                  with different targets, a duplicate, or an ill-conditioned system)
     * @throws IllegalArgumentException if a request does not fit the model (the message names its index)
     * @throws IllegalStateException    if the computation fails; the weights are unchanged then
     */
    default JointEditResult editJointly(ClipTextModel model, List<EditRequest> requests) {
        return editJointly(model, requests, JointOptions.defaults());
    }

    /**
     * As {@link #editJointly(ClipTextModel, List)} with options: ridge λ (soft least squares, no conflict
     * refusal), the condition limit, and earlier edits' keys to keep fixed.
     *
     * @param model    the text encoder to edit
     * @param requests the edits to make at once; at least one
     * @param options  ridge, condition limit and protected keys (of this editor's layer and the model's MLP width)
     * @return the applied joint edit, undone as one change
     * @throws EditConflictException    with ridge 0, if requests (or protected keys) contradict each other or the
     *                                  system's condition number exceeds the limit; before any weight change
     * @throws IllegalArgumentException if {@code requests} is empty, a request does not fit the model, or a
     *                                  protected key is of another layer or width
     * @throws IllegalStateException    if the computation fails; the weights are unchanged then
     */
    JointEditResult editJointly(ClipTextModel model, List<EditRequest> requests, JointOptions options);

    /**
     * Edits one request after another, each as a one-request joint edit on the weights left by the previous one.
     * With {@code protect}, every edit also keeps the bare-subject outputs of all earlier edits of this call (and
     * of {@code options.protectedKeys()}) at their current values. All or nothing: if one fails, the edits this
     * call made are undone and the exception names the failing request's index.
     *
     * @param model    the text encoder to edit
     * @param requests the edits, applied in order (empty: nothing happens)
     * @param options  ridge, condition limit and protected keys, used for every edit
     * @param protect  whether each edit keeps the bare-subject outputs of the earlier edits of this call fixed
     * @return one one-request joint result per request, in order; undo them newest first
     * @throws EditConflictException   if an edit conflicts with its protected keys (same subject, different
     *                                  target) or its system is ill-conditioned; the type is kept, the message is
     *                                  prefixed with the failing request's index, the cause is the original
     *                                  exception and {@link EditConflictException#requests()} are the rows of that
     *                                  one edit's system (0 = the request, then its protected keys); earlier edits
     *                                  undone
     * @throws IllegalArgumentException if an edit is refused otherwise or does not fit (wrapping the cause; earlier
     *                                  edits undone)
     * @throws IllegalStateException    if an edit's computation fails (wrapping the cause; earlier edits undone)
     */
    List<JointEditResult> editSequentially(ClipTextModel model, List<EditRequest> requests, JointOptions options,
                                           boolean protect);

    /**
     * The hyperparameters every edit uses.
     *
     * @return the hyperparameters given to the builder
     */
    Hyperparameters hyperparameters();

    /**
     * A builder; tokenizer and statistics are required.
     *
     * @return a new builder with {@link Hyperparameters#roleEdits()} and no listener
     */
    static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link Editor}; setters validate at once. */
    final class Builder {
        private Hyperparameters hyperparameters = Hyperparameters.roleEdits();
        private CovarianceStats statistics;
        private ClipTokenizer tokenizer;
        private ProgressListener listener = ProgressListener.NONE;
        private boolean allowStatisticsOfOtherModels;

        Builder() {
        }

        /**
         * Whether to accept statistics whose provenance records another model's fingerprint than the edited
         * model's (current or as loaded). Default false: such edits throw {@code IllegalArgumentException}; when
         * true they are logged as a warning ({@code System.Logger} {@code dev.refact.core.Editor}).
         *
         * @param value true to allow
         * @return this builder
         */
        public Builder allowStatisticsOfOtherModels(boolean value) {
            allowStatisticsOfOtherModels = value;
            return this;
        }

        /**
         * The hyperparameters every edit uses (default {@link Hyperparameters#roleEdits()}).
         *
         * @param value the hyperparameters
         * @return this builder
         */
        public Builder hyperparameters(Hyperparameters value) {
            hyperparameters = Objects.requireNonNull(value, "hyperparameters");
            return this;
        }

        /**
         * Covariance statistics at the edited layer (owned by the caller; not closed by the editor).
         *
         * @param value C at {@link Hyperparameters#layer()}, of the model to edit (required)
         * @return this builder
         */
        public Builder statistics(CovarianceStats value) {
            statistics = Objects.requireNonNull(value, "statistics");
            return this;
        }

        /**
         * The tokenizer of the model to edit (required; owned by the caller).
         *
         * @param value the tokenizer
         * @return this builder
         */
        public Builder tokenizer(ClipTokenizer value) {
            tokenizer = Objects.requireNonNull(value, "tokenizer");
            return this;
        }

        /**
         * Receives progress of the v* search (default: {@link ProgressListener#NONE}).
         *
         * @param value the listener, called on the editing thread
         * @return this builder
         */
        public Builder listener(ProgressListener value) {
            listener = Objects.requireNonNull(value, "listener");
            return this;
        }

        /**
         * Builds the editor.
         *
         * @return a new immutable, thread-safe editor; when {@link Hyperparameters#covarianceDamping()} is &gt; 0 and
         *         differs from the statistics' damping, it uses {@code statistics.withDamping(λ)}
         * @throws IllegalStateException if tokenizer or statistics are missing, or the statistics are for
         *                               another layer than the hyperparameters'
         */
        public Editor build() {
            if (tokenizer == null) {
                throw new IllegalStateException("Editor.builder(): tokenizer is required");
            }
            if (statistics == null) {
                throw new IllegalStateException("Editor.builder(): statistics are required (CovarianceStats at layer "
                        + hyperparameters.layer() + ")");
            }
            if (statistics.layer() != hyperparameters.layer()) {
                throw new IllegalStateException("statistics are for layer " + statistics.layer()
                        + " but the hyperparameters edit layer " + hyperparameters.layer());
            }
            CovarianceStats stats = hyperparameters.covarianceDamping() > 0
                    && statistics.damping() != hyperparameters.covarianceDamping()
                    ? statistics.withDamping(hyperparameters.covarianceDamping()) : statistics;
            return new CheckedEditor(new RefactEditor(hyperparameters, stats, tokenizer, listener), stats,
                    allowStatisticsOfOtherModels);
        }
    }
}
