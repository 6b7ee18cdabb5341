package dev.refact.clip;

import dev.refact.clip.torch.OwnedTensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The state of one layer's MLP for a batch, as the editor needs it. Owns its three tensors privately
 * (see {@link OwnedTensors}); {@link ClipTextModel#traceMlp} hands it to the caller as one unit
 * ({@code Tensors.handOffOwner}): it belongs to the caller's innermost open scope, or to the caller.
 *
 * <ul>
 *   <li>{@link #residual()} [b,n,d] — the residual stream entering the MLP
 *       ({@code x + attention(ln1(x))})</li>
 *   <li>{@link #key()} [b,n,i] — the fc2 input {@code act(fc1(ln2(residual)))}</li>
 *   <li>{@link #output()} [b,n,d] — {@code fc2(key)} including the bias</li>
 * </ul>
 * The layer's output is {@code residual + output}; {@link ClipTextModel#forwardFrom} continues from it.
 * Accessors throw {@code IllegalStateException("MlpTrace is closed")} after {@link #close()}.
 */
public final class MlpTrace implements AutoCloseable {
    private final int layer;
    private final Tensor residual;
    private final Tensor key;
    private final Tensor output;
    private final OwnedTensors owned;

    /**
     * Takes ownership of three tensors retained outside every open scope.
     *
     * @param layer    0-based layer index
     * @param residual [b,n,d]
     * @param key      [b,n,i]
     * @param output   [b,n,d]
     */
    public MlpTrace(int layer, Tensor residual, Tensor key, Tensor output) {
        this.layer = layer;
        this.residual = residual;
        this.key = key;
        this.output = output;
        this.owned = new OwnedTensors("MlpTrace", residual, key, output);
    }

    /** {@return 0-based layer index} */
    public int layer() {
        return layer;
    }

    /** {@return [b,n,d] the residual stream entering the MLP} */
    public Tensor residual() {
        return owned.check(residual);
    }

    /** {@return [b,n,i] the fc2 input} */
    public Tensor key() {
        return owned.check(key);
    }

    /** {@return [b,n,d] the fc2 output including the bias} */
    public Tensor output() {
        return owned.check(output);
    }

    /** {@return whether {@link #close()} has run (then the tensors are freed)} */
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
        return "MlpTrace[layer " + layer + (owned.isClosed() ? ", closed]" : ", key " + dev.refact.clip.torch.Tensors
                .shapeString(key) + "]");
    }
}
