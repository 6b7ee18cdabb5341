package dev.refact.clip;

import org.bytedeco.pytorch.Tensor;

/**
 * The state of one layer's MLP for a batch, as the editor needs it. Owns its tensors: close it.
 *
 * <ul>
 *   <li>{@link #residual()} [b,n,d] — the residual stream entering the MLP
 *       ({@code x + attention(ln1(x))})</li>
 *   <li>{@link #key()} [b,n,i] — the fc2 input {@code act(fc1(ln2(residual)))}</li>
 *   <li>{@link #output()} [b,n,d] — {@code fc2(key)} including the bias</li>
 * </ul>
 * The layer's output is {@code residual + output}; {@link ClipTextModel#forwardFrom} continues from it.
 *
 * @param layer    0-based layer index
 * @param residual [b,n,d]
 * @param key      [b,n,i]
 * @param output   [b,n,d]
 */
public record MlpTrace(int layer, Tensor residual, Tensor key, Tensor output) implements AutoCloseable {
    @Override
    public void close() {
        residual.close();
        key.close();
        output.close();
    }
}
