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

    /**
     * Problem in {@code file} as a whole.
     *
     * @param file    the malformed file, named first in the message
     * @param problem what is wrong, in a few words
     */
    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    /**
     * Problem with the tensor {@code tensor} in {@code file}.
     *
     * @param file    the file holding the tensor, named first in the message
     * @param tensor  the name of the tensor or array concerned, quoted in the message
     * @param problem what is wrong with it, in a few words
     */
    public CheckpointFormatException(Path file, String tensor, String problem) {
        super(file + ": tensor '" + tensor + "': " + problem);
    }

    /**
     * As {@link #CheckpointFormatException(Path, String)} with an underlying cause.
     *
     * @param file    the malformed file, named first in the message
     * @param problem what is wrong, in a few words
     * @param cause   the exception that revealed the problem (may be {@code null})
     */
    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
