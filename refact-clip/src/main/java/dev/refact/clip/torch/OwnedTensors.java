package dev.refact.clip.torch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The private tensors of one owning object (a result holder such as {@code TextEncoding}, a journal, a cache):
 * the single owner of each tensor it is given, released once by {@link #close()}.
 *
 * <p>The tensors must have been {@code retainReference()}d inside a scope that has since closed, so that they
 * belong to no open {@code PointerScope}: only this object frees them. An owner class keeps one
 * {@code OwnedTensors}, routes every accessor through {@link #check} (so use after close fails with
 * {@code IllegalStateException("<owner> is closed")} instead of JavaCPP's {@code NullPointerException}) and
 * calls {@link #close()} from its own {@code close()}. Closing twice is harmless.
 *
 * <p>Not a user-facing API: public because refact-core and refact-diffusion use it.
 */
public final class OwnedTensors implements AutoCloseable {
    private final String owner;
    private final List<Tensor> tensors;
    private volatile boolean closed;

    /**
     * Takes ownership of {@code retained} (null entries are skipped).
     *
     * @param owner the owning object's name, for the "closed" message
     * @param retained tensors retained outside every open scope
     */
    public OwnedTensors(String owner, Tensor... retained) {
        this.owner = owner;
        this.tensors = new ArrayList<>();
        for (Tensor t : retained) {
            if (t != null) {
                tensors.add(t);
            }
        }
    }

    /**
     * Takes ownership of {@code first} and every tensor of {@code more} (null entries are skipped).
     *
     * @param owner the owning object's name, for messages
     * @param more further tensors to own
     * @param first tensors to own
     */
    public OwnedTensors(String owner, Collection<Tensor> more, Tensor... first) {
        this(owner, first);
        for (Tensor t : more) {
            if (t != null) {
                tensors.add(t);
            }
        }
    }

    /**
     * Returns {@code value} if the owner is open.
     *
     * @throws IllegalStateException "{@code <owner> is closed}" after {@link #close()}
     * @param <T> the value type
     * @param value the value to return
     * @return {@code value}
     */
    public <T> T check(T value) {
        if (closed) {
            throw new IllegalStateException(owner + " is closed");
        }
        return value;
    }

    /** Throws {@code IllegalStateException("<owner> is closed")} after {@link #close()}. */
    public void checkOpen() {
        check(this);
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return closed;
    }

    /** {@return how many tensors are owned (0 after close)} */
    public synchronized int size() {
        return tensors.size();
    }

    /** Frees every owned tensor (their pointers become null); idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Tensor t : tensors) {
            t.close();
        }
        tensors.clear();
    }

    @Override
    public String toString() {
        return owner + (closed ? " (closed)" : " (" + tensors.size() + " tensors)");
    }
}
