package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import java.util.Objects;

/** The handle {@link SavedEdit#apply} returns: undoes the applied change on its model. */
final class SavedEditApplication implements AppliedEdit {
    private final SavedEdit edit;
    private final ClipTextModel model;
    private boolean undone;

    SavedEditApplication(SavedEdit edit, ClipTextModel model) {
        this.edit = Objects.requireNonNull(edit, "edit");
        this.model = Objects.requireNonNull(model, "model");
    }

    @Override
    public String changeId() {
        return edit.changeId();
    }

    @Override
    public int layer() {
        return edit.layer();
    }

    @Override
    public String weightName() {
        return edit.weightName();
    }

    @Override
    public synchronized boolean isUndone() {
        return undone;
    }

    @Override
    public synchronized void undo() {
        if (undone) {
            throw new IllegalStateException("edit " + edit.changeId() + " is already undone");
        }
        model.undo(edit.changeId());
        undone = true;
    }

    @Override
    public String toString() {
        return "AppliedEdit[" + edit.changeId() + ", layer " + edit.layer() + ", " + edit.request()
                + (undone ? ", undone]" : "]");
    }
}
