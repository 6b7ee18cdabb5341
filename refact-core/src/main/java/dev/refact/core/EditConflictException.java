package dev.refact.core;

import java.util.List;

/**
 * Thrown when requests of a joint edit cannot all hold at once: the same subject with different targets (or the
 * same request twice), or keys so close that the joint system is ill-conditioned. Thrown before any weight
 * changes. The message names the requests (index and prompt) and the reason.
 *
 * @serial exclude (not part of the documented API; an exception is not a data format)
 */
public final class EditConflictException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient List<Integer> requests;
    private final double conditionNumber;

    EditConflictException(String message, List<Integer> requests, double conditionNumber) {
        super(message);
        this.requests = List.copyOf(requests);
        this.conditionNumber = conditionNumber;
    }

    /**
     * The 0-based indices of the conflicting rows: requests first, then protected keys numbered after them
     * (n, n+1, …).
     *
     * @return the conflicting row indices, in the order the message names them (an unmodifiable list)
     */
    public List<Integer> requests() {
        return requests;
    }

    /**
     * The joint system's condition number, or NaN when the conflict was found before the keys (same subject).
     *
     * @return the 2-norm condition number (above the limit of {@link JointOptions#maxCondition()}), or NaN
     */
    public double conditionNumber() {
        return conditionNumber;
    }
}
