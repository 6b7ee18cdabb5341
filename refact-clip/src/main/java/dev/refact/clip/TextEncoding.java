package dev.refact.clip;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The outputs of one text-encoder forward pass. Owns its tensors: close it.
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

    TextEncoding(Tensor lastHiddenState, Tensor pooled, Tensor textEmbeds, List<Tensor> hiddenStates,
                 List<Tensor> mlpKeys) {
        this.lastHiddenState = lastHiddenState;
        this.pooled = pooled;
        this.textEmbeds = textEmbeds;
        this.hiddenStates = List.copyOf(hiddenStates);
        this.mlpKeys = List.copyOf(mlpKeys);
    }

    /** [b,n,d] after the final LayerNorm. */
    public Tensor lastHiddenState() {
        return lastHiddenState;
    }

    /** [b,d] at the first end token. */
    public Tensor pooled() {
        return pooled;
    }

    /** [b,p] projected pooled output, or null when the model has no {@code text_projection}. */
    public Tensor textEmbeds() {
        return textEmbeds;
    }

    /** L+1 tensors [b,n,d], or empty. */
    public List<Tensor> hiddenStates() {
        return hiddenStates;
    }

    /** L tensors [b,n,i] (fc2 inputs), or empty. */
    public List<Tensor> mlpKeys() {
        return mlpKeys;
    }

    @Override
    public void close() {
        lastHiddenState.close();
        pooled.close();
        if (textEmbeds != null) {
            textEmbeds.close();
        }
        hiddenStates.forEach(Tensor::close);
        mlpKeys.forEach(Tensor::close);
    }
}
