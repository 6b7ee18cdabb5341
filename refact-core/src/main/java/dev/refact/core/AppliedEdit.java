package dev.refact.core;

/**
 * An edit that is applied to a model and can be undone: what {@link Editor#edit} ({@link EditResult}) and
 * {@link SavedEdit#apply} return.
 *
 * <p>{@link #undo()} restores the weights bit for bit. Edits of one model are undone newest first; undoing out of
 * order throws {@link IllegalStateException} and changes nothing.
 */
public interface AppliedEdit {
    /** {@return the id under which the model journals this change ({@code ClipTextModel.changes()})} */
    String changeId();

    /** {@return the edited layer} */
    int layer();

    /** {@return the checkpoint name of the edited weight, e.g. {@code text_model.encoder.layers.9.mlp.fc2.weight}} */
    String weightName();

    /** {@return whether {@link #undo()} has run} */
    boolean isUndone();

    /**
     * Restores the weights the edit changed, bit for bit.
     *
     * @throws IllegalStateException if already undone ("already undone"), if later changes of the model have not
     *                               been undone, or if the model is closed
     */
    void undo();
}
