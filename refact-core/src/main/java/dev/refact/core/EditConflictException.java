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
    private static final long serialVersionUID = 2L; // 2: requests serialized (were transient)
    /** The conflicting rows; an {@code int[]} so that they survive serialization (a {@code List} may not). */
    private final int[] requests;
    private final double conditionNumber;

    EditConflictException(String message, List<Integer> requests, double conditionNumber) {
        super(message);
        this.requests = requests.stream().mapToInt(Integer::intValue).toArray();
        this.conditionNumber = conditionNumber;
    }

    /**
     * The 0-based indices of the conflicting rows: requests first, then protected keys numbered after them
     * (n, n+1, …).
     *
     * @return the conflicting row indices, in the order the message names them (an unmodifiable list; also after
     *         the exception was serialized and read back)
     */
    public List<Integer> requests() {
        return java.util.Arrays.stream(requests).boxed().toList();
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
