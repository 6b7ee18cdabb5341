package dev.refact.clip.io;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Turns the JDK's terse file exceptions (whose message is often just the path) into one-line messages that say
 * what went wrong and where: "does not exist", "is a directory", "permission denied", "not UTF-8".
 */
public final class FileErrors {
    private FileErrors() {
    }

    /**
     * A one-line message {@code "<file>: <problem>"} for {@code e}; for other exceptions their own message.
     *
     * @param e an I/O exception
     * @return a message that names the file and the problem
     */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fse && fse.getFile() != null) {
            Path file = Path.of(fse.getFile());
            // a reason given by the thrower (e.g. "no tokenizer found; give --tokenizer") says more than ours
            String r = fse.getReason() != null && !(e instanceof AccessDeniedException) && !fse.getReason().isBlank()
                    ? fse.getReason() : reason(e, file);
            if (e instanceof NoSuchFileException && fse.getReason() != null && !r.contains("exist")
                    && !r.contains("missing") && !r.contains("no ") && !r.contains("not found")) {
                r = "does not exist (" + r + ")";
            }
            String msg = file + ": " + r;
            if (fse.getOtherFile() != null && !(e instanceof NoSuchFileException)) {
                msg += " (" + fse.getOtherFile() + ")";
            }
            return msg;
        }
        if (e instanceof CharacterCodingException) {
            return "not valid UTF-8";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * The problem alone ({@code "does not exist"}, {@code "permission denied"}, ...), for messages that name the
     * file themselves.
     *
     * @param e    the exception
     * @param file the file concerned, used to tell "is a directory" apart
     * @return a short lower-case phrase
     */
    public static String reason(IOException e, Path file) {
        if (e instanceof NoSuchFileException) {
            return "does not exist";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "is not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "is a non-empty directory";
        }
        if (e instanceof CharacterCodingException) {
            return "not valid UTF-8";
        }
        if (file != null && Files.isDirectory(file)) {
            return "is a directory";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason().toLowerCase(java.util.Locale.ROOT);
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Checks that {@code file} is a readable regular file before it is opened.
     *
     * @param file the file
     * @param what what the file is for, e.g. {@code "--prompts file"}; may be null
     * @throws IOException a one-line message: does not exist, is a directory, permission denied
     */
    public static void requireReadableFile(Path file, String what) throws IOException {
        String prefix = (what == null ? "" : what + " ") + file + ": ";
        if (!Files.exists(file)) {
            throw new IOException(prefix + "does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new IOException(prefix + "is a directory, not a file");
        }
        if (!Files.isReadable(file)) {
            throw new IOException(prefix + "permission denied");
        }
    }
}
