package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import java.util.Objects;

/**
 * The undo half of every {@link AppliedEdit}: one journalled change of one model, undone at most once. The result
 * and handle classes delegate {@code isUndone()} and {@code undo()} here.
 */
final class UndoState {
    private final ClipTextModel model;
    private final String changeId;
    private boolean undone;

    UndoState(ClipTextModel model, String changeId) {
        this.model = Objects.requireNonNull(model, "model");
        this.changeId = Objects.requireNonNull(changeId, "changeId");
    }

    /** {@return the model the change was made on} */
    ClipTextModel model() {
        return model;
    }

    /** {@return whether {@link #undo()} has run} */
    synchronized boolean isUndone() {
        return undone;
    }

    /**
     * Undoes the change on its model, bit for bit.
     *
     * @throws IllegalStateException if already undone, if later changes to the model have not been undone, or if
     *                               the model is closed
     */
    synchronized void undo() {
        if (undone) {
            throw new IllegalStateException("edit " + changeId + " is already undone");
        }
        model.undo(changeId);
        undone = true;
    }
}
