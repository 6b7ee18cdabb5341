package dev.refact.clip.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint or array file is malformed, unsupported or unsafe to read.
 *
 * <p>The message always names the file and, when the problem concerns one tensor or array,
 * that tensor: {@code <file>: tensor '<name>': <problem>}.
 */
public class CheckpointFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Problem in {@code file} as a whole. */
    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /** Problem with the tensor {@code tensor} in {@code file}. */
    public CheckpointFormatException(Path file, String tensor, String problem) {
        super(file + ": tensor '" + tensor + "': " + problem);
    }

    /** As {@link #CheckpointFormatException(Path, String)} with an underlying cause. */
    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
