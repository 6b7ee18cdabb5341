package dev.refact.clip;

import java.util.List;
import dev.refact.clip.torch.OwnedTensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The outputs of one vision-tower forward pass. Owns its tensors: close it.
 *
 * <p>Shapes for a batch of {@code b} images (width W, T = (S/P)² + 1 tokens, projection p, L layers):
 * <ul>
 *   <li>{@link #embeddings()} [b,T,W] — {@code [class ; patches] + position}, before {@code pre_layrnorm};
 *       null unless hidden states were asked for</li>
 *   <li>{@link #hiddenStates()} L+1 tensors [b,T,W] — {@code pre_layrnorm} output (the encoder input), then
 *       each layer's output, as HF {@code output_hidden_states}; empty unless asked for</li>
 *   <li>{@link #lastHiddenState()} [b,T,W] — the last layer's output (no post-LayerNorm)</li>
 *   <li>{@link #pooled()} [b,W] — {@code post_layernorm} of the class token</li>
 *   <li>{@link #imageEmbeds()} [b,p] — {@code visual_projection(pooled)} (not normalised), or null without
 *       a projection</li>
 * </ul>
 */
public final class VisionEncoding implements AutoCloseable {
    private final OwnedTensors owned;
    private final Tensor embeddings;
    private final List<Tensor> hiddenStates;
    private final Tensor lastHiddenState;
    private final Tensor pooled;
    private final Tensor imageEmbeds;

    VisionEncoding(Tensor embeddings, List<Tensor> hiddenStates, Tensor lastHiddenState, Tensor pooled,
            Tensor imageEmbeds) {
        this.embeddings = embeddings;
        this.hiddenStates = List.copyOf(hiddenStates);
        this.lastHiddenState = lastHiddenState;
        this.pooled = pooled;
        this.imageEmbeds = imageEmbeds;
        this.owned = new OwnedTensors("VisionEncoding", this.hiddenStates, embeddings, lastHiddenState, pooled, imageEmbeds);
    }

    /**
     * [b,T,W] before {@code pre_layrnorm}, or null.
     *
     * @return [b,T,W] embeddings, or null unless hidden states were asked for; owned by this encoding (do not close)
     */
    public Tensor embeddings() {
        return owned.check(embeddings);
    }

    /**
     * L+1 tensors [b,T,W], or empty.
     *
     * @return an unmodifiable list: the {@code pre_layrnorm} output, then each layer's output; empty unless hidden
     *         states were asked for; tensors owned by this encoding (do not close)
     */
    public List<Tensor> hiddenStates() {
        return owned.check(hiddenStates);
    }

    /**
     * [b,T,W].
     *
     * @return [b,T,W] output of the last layer (no post-LayerNorm), owned by this encoding (do not close)
     */
    public Tensor lastHiddenState() {
        return owned.check(lastHiddenState);
    }

    /**
     * [b,W].
     *
     * @return [b,W] {@code post_layernorm} of the class token, owned by this encoding (do not close)
     */
    public Tensor pooled() {
        return owned.check(pooled);
    }

    /**
     * [b,p], or null.
     *
     * @return [b,p] unnormalised image embeddings, or null without {@code visual_projection}; owned by this encoding
     *         (do not close)
     */
    public Tensor imageEmbeds() {
        return owned.check(imageEmbeds);
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
}
