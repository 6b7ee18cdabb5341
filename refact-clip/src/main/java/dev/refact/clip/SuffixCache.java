package dev.refact.clip;

import dev.refact.clip.torch.OwnedTensors;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Clean keys and values of the positions before {@code start} at every layer after {@code layer}, for
 * {@link ClipTextModel#forwardSuffix}: [b,h,start,hd] each, two per layer. Owns them privately (see
 * {@link OwnedTensors}); {@link ClipTextModel#suffixCache} hands it to the caller as one unit under the library's
 * single rule: it belongs to the caller's innermost open scope, or to the caller when none is open. Accessors
 * throw {@code IllegalStateException("SuffixCache is closed")} after {@link #close()}.
 */
public final class SuffixCache implements AutoCloseable {
    private final int layer;
    private final int start;
    private final List<Tensor> tensors;
    private final OwnedTensors owned;

    /**
     * Takes ownership of the tensors (retained outside every open scope) and copies the list.
     *
     * @param layer   the layer whose output the suffix pass starts from
     * @param start   first recomputed position
     * @param tensors k, v of layer+1, then of layer+2, …
     */
    public SuffixCache(int layer, int start, List<Tensor> tensors) {
        this.layer = layer;
        this.start = start;
        this.tensors = List.copyOf(tensors);
        this.owned = new OwnedTensors("SuffixCache", this.tensors);
    }

    /** {@return the layer whose output the suffix pass starts from} */
    public int layer() {
        return layer;
    }

    /** {@return first recomputed position} */
    public int start() {
        return start;
    }

    /** {@return k, v of layer+1, then of layer+2, … ([b,h,start,hd] each; owned by this cache)} */
    public List<Tensor> tensors() {
        return owned.check(tensors);
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return owned.isClosed();
    }

    /** Frees the tensors; idempotent. */
    @Override
    public void close() {
        owned.close();
    }

    @Override
    public String toString() {
        return "SuffixCache[layer " + layer + ", start " + start + (owned.isClosed() ? ", closed]" : "]");
    }
}
