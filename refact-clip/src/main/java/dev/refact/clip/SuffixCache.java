package dev.refact.clip;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Clean keys and values of the positions before {@code start} at every layer after {@code layer}, for
 * {@link ClipTextModel#forwardSuffix}. Owns its tensors ([b,h,start,hd] each, two per layer): close it.
 *
 * @param layer   the layer whose output the suffix pass starts from
 * @param start   first recomputed position
 * @param tensors k, v of layer+1, then of layer+2, …
 */
public record SuffixCache(int layer, int start, List<Tensor> tensors) implements AutoCloseable {
    /** Copies the list. */
    public SuffixCache {
        tensors = List.copyOf(tensors);
    }

    @Override
    public void close() {
        tensors.forEach(Tensor::close);
    }
}
