package dev.refact.clip;

import dev.refact.clip.torch.OwnedTensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The outputs of one text-encoder forward pass, as tensors (for float arrays see
 * {@link ClipTextModel#encode(dev.refact.clip.tokenizer.ClipTokenizer, String)}). Owns its tensors privately
 * ({@link OwnedTensors}); {@link ClipTextModel#encode(Tensor)} hands it to the caller as one unit: it belongs to
 * the caller's innermost open scope ({@link TensorScope}), or to the caller when none is open. Accessors throw
 * {@code IllegalStateException("TextEncoding is closed")} after {@link #close()}.
 *
 * <p>Shapes for a batch of {@code b} prompts of {@code n} tokens (width d, MLP width i, projection p,
 * L layers):
 * <ul>
 *   <li>{@link #lastHiddenState()} [b,n,d] — after {@code final_layer_norm}; what Stable Diffusion's
 *       UNet consumes (n = 77 with SD padding)</li>
 *   <li>{@link #pooled()} [b,d] — the last hidden state at the first end token</li>
 *   <li>{@link #textEmbeds()} [b,p] — {@code pooled · text_projectionᵀ}, or null without a projection</li>
 *   <li>{@link #hiddenStates()} L+1 tensors [b,n,d] — embeddings, then each layer's output (before the
 *       final LayerNorm), as HF {@code output_hidden_states}; empty unless asked for</li>
 *   <li>{@link #mlpKeys()} L tensors [b,n,i] — each layer's fc2 input; empty unless asked for</li>
 * </ul>
 */
public final class TextEncoding implements AutoCloseable {
    private final Tensor lastHiddenState;
    private final Tensor pooled;
    private final Tensor textEmbeds;
    private final List<Tensor> hiddenStates;
    private final List<Tensor> mlpKeys;
    private final OwnedTensors owned;

    TextEncoding(Tensor lastHiddenState, Tensor pooled, Tensor textEmbeds, List<Tensor> hiddenStates,
                 List<Tensor> mlpKeys) {
        this.lastHiddenState = lastHiddenState;
        this.pooled = pooled;
        this.textEmbeds = textEmbeds;
        this.hiddenStates = List.copyOf(hiddenStates);
        this.mlpKeys = List.copyOf(mlpKeys);
        List<Tensor> all = new java.util.ArrayList<>(this.hiddenStates);
        all.addAll(this.mlpKeys);
        this.owned = new OwnedTensors("TextEncoding", all, lastHiddenState, pooled, textEmbeds);
    }

    /**
     * [b,n,d] after the final LayerNorm.
     *
     * @return [b,n,d] last hidden state, owned by this encoding (do not close)
     */
    public Tensor lastHiddenState() {
        return owned.check(lastHiddenState);
    }

    /**
     * [b,d] at the first end token.
     *
     * @return [b,d] pooled output, owned by this encoding (do not close)
     */
    public Tensor pooled() {
        return owned.check(pooled);
    }

    /**
     * [b,p] projected pooled output, or null when the model has no {@code text_projection}.
     *
     * @return [b,p] text embeddings, or null; owned by this encoding (do not close)
     */
    public Tensor textEmbeds() {
        return owned.check(textEmbeds);
    }

    /**
     * L+1 tensors [b,n,d], or empty.
     *
     * @return an unmodifiable list: the embeddings, then each layer's output; empty unless the encoding was made with
     *         layer outputs; tensors owned by this encoding (do not close)
     */
    public List<Tensor> hiddenStates() {
        return owned.check(hiddenStates);
    }

    /**
     * L tensors [b,n,i] (fc2 inputs), or empty.
     *
     * @return an unmodifiable list, one fc2 input per layer; empty unless the encoding was made with layer outputs;
     *         tensors owned by this encoding (do not close)
     */
    public List<Tensor> mlpKeys() {
        return owned.check(mlpKeys);
    }

    /** {@return whether {@link #close()} has run (then every tensor is freed)} */
    public boolean isClosed() {
        return owned.isClosed();
    }

    /** Frees every tensor; idempotent. */
    @Override
    public void close() {
        owned.close();
    }

    @Override
    public String toString() {
        return owned.isClosed() ? "TextEncoding[closed]" : "TextEncoding[last hidden state "
                + dev.refact.clip.torch.Tensors.shapeString(lastHiddenState) + ", " + hiddenStates.size()
                + " hidden states]";
    }
}
