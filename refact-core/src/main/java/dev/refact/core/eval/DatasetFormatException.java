package dev.refact.core.eval;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A dataset file that cannot be read: bad CSV syntax, an unknown header, a missing column, a short
 * row or an empty required cell. The message names the file, the 1-based line and, where it
 * applies, the column.
 */
public final class DatasetFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The file as a string: a {@link Path} is not serializable, and Spark ships this exception to the driver. */
    private final String file;
    /** 1-based line of the problem, 0 when it concerns the whole file. */
    private final int line;

    /**
     * A problem at a position in a dataset file.
     *
     * @param file   the dataset file
     * @param line   1-based line, 0 when the problem concerns the whole file
     * @param column 1-based column (character position or field number as the message says), 0 if none
     * @param what   what is wrong
     */
    DatasetFormatException(Path file, int line, int column, String what) {
        super(file + (line > 0 ? ":" + line + (column > 0 ? ":" + column : "") : "") + ": " + what);
        this.file = file.toString();
        this.line = line;
    }

    /**
     * The dataset file.
     *
     * @return the file the problem is in (also after deserialization)
     */
    public Path file() {
        return Path.of(file);
    }

    /**
     * The 1-based line of the problem, 0 for a whole-file problem.
     *
     * @return the line, at least 0
     */
    public int line() {
        return line;
    }
}
