package dev.refact.clip;

import org.bytedeco.javacpp.PointerScope;

/**
 * An explicit owner for the native results of engine-level calls (DJL's {@code NDManager} idea): everything the
 * library returns on this thread while the scope is open — tensors, {@link TextEncoding}, {@link MlpTrace},
 * {@link SuffixCache} — belongs to the scope and is freed when it closes.
 *
 * <p>Users who only call the array-level API ({@link ClipTextModel#encode(dev.refact.clip.tokenizer.ClipTokenizer,
 * String)}, {@code Editor.edit}) never need one. With tensors:
 *
 * <pre>{@code
 * try (TensorScope scope = TensorScope.open()) {
 *     TextEncoding enc = model.encode(ids);            // owned by the scope
 *     float[] pooled = Tensors.toFloats(enc.pooled());
 * }                                                    // enc and its tensors are freed here
 * }</pre>
 *
 * <p>Rules: a scope belongs to the thread that opened it and must be closed on that thread, innermost first
 * (try-with-resources does both). Long-lived objects ({@link ClipTextModel}, covariance statistics) never belong
 * to a scope: they are closed by their owner. With no scope open, the caller owns and closes what it receives.
 */
public final class TensorScope implements AutoCloseable {
    private final PointerScope scope;
    private final Thread owner;
    private boolean closed;

    private TensorScope() {
        dev.refact.clip.torch.TorchRuntime.ensureLoaded();
        this.owner = Thread.currentThread();
        this.scope = new PointerScope();
    }

    /**
     * Opens a scope on the current thread; it becomes the owner of what the library returns until closed.
     *
     * @return the open scope
     */
    public static TensorScope open() {
        return new TensorScope();
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Frees everything the scope owns. Idempotent.
     *
     * @throws IllegalStateException if called from another thread than the one that opened the scope
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("TensorScope opened on thread " + owner.getName()
                    + " must be closed on that thread, not on " + Thread.currentThread().getName());
        }
        closed = true;
        scope.close();
    }

    @Override
    public String toString() {
        return "TensorScope[" + owner.getName() + (closed ? ", closed]" : "]");
    }
}
