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
    private final ClipTextModel model;
    private boolean undone;

    SavedEditApplication(String changeId, int layer, String weightName, String description, ClipTextModel model) {
        this.changeId = Objects.requireNonNull(changeId, "changeId");
        this.layer = layer;
        this.weightName = Objects.requireNonNull(weightName, "weightName");
        this.description = Objects.requireNonNull(description, "description");
        this.model = Objects.requireNonNull(model, "model");
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
    public synchronized boolean isUndone() {
        return undone;
    }

    @Override
    public synchronized void undo() {
        if (undone) {
            throw new IllegalStateException("edit " + changeId + " is already undone");
        }
        model.undo(changeId);
        undone = true;
    }

    @Override
    public String toString() {
        return "AppliedEdit[" + changeId + ", layer " + layer + ", " + description + (undone ? ", undone]" : "]");
    }
}
