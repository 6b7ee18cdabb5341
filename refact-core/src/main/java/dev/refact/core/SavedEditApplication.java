package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import java.util.Objects;

/**
 * The handle {@link SavedEdit#apply} and {@link SavedJointEdit#apply} return: undoes the applied change on its
 * model.
 */
final class SavedEditApplication implements AppliedEdit {
    private final String changeId;
    private final int layer;
    private final String weightName;
    private final String description;
    private final UndoState undoState;

    SavedEditApplication(String changeId, int layer, String weightName, String description, ClipTextModel model) {
        this.changeId = Objects.requireNonNull(changeId, "changeId");
        this.layer = layer;
        this.weightName = Objects.requireNonNull(weightName, "weightName");
        this.description = Objects.requireNonNull(description, "description");
        this.undoState = new UndoState(model, changeId);
    }

    @Override
    public String changeId() {
        return changeId;
    }

    @Override
    public int layer() {
        return layer;
    }

    @Override
    public String weightName() {
        return weightName;
    }

    @Override
    public boolean isUndone() {
        return undoState.isUndone();
    }

    @Override
    public void undo() {
        undoState.undo();
    }

    @Override
    public String toString() {
        return "AppliedEdit[" + changeId + ", layer " + layer + ", " + description
                + (undoState.isUndone() ? ", undone]" : "]");
    }
}
