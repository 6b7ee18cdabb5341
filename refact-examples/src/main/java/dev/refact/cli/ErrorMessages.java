package dev.refact.cli;

import dev.refact.clip.io.FileErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Pattern;

/**
 * The one-line text of an error for {@code refact: <message>}: file problems said in words ("does not exist",
 * "is a directory", "permission denied", "not valid UTF-8"), no library URLs or class names, no line breaks, and
 * never longer than {@link #MAX} characters (user text is quoted abbreviated).
 */
final class ErrorMessages {
    /** Longest message printed. */
    static final int MAX = 600;

    private static final Pattern LIBRARY_URL = Pattern.compile("\\s*See https?://\\S*gson\\S*|\\s*https?://github\\.com/google/gson\\S*");
    private static final Pattern CLASS_PREFIX =
            Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)(?::\\s*)?");

    private ErrorMessages() {
    }

    /** The message for an exception thrown by a command. */
    static String oneLine(Throwable ex) {
        Throwable t = ex;
        if (t instanceof UncheckedIOException u && u.getCause() != null
                && (u.getMessage() == null || u.getMessage().equals(u.getCause().toString()))) {
            t = u.getCause();
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory (Java heap); the input is too large for this machine (raise -Xmx through "
                    + "REFACT_JAVA_OPTS, or use a smaller input)";
        }
        String msg;
        if (t instanceof IOException io) {
            msg = FileErrors.describe(io);
        } else if (t.getMessage() == null || t.getMessage().isBlank()) {
            msg = "unexpected " + t.getClass().getSimpleName()
                    + (t.getCause() != null && t.getCause().getMessage() != null ? ": " + t.getCause().getMessage() : "");
        } else {
            msg = t.getMessage();
        }
        return clean(msg);
    }

    /** Removes library URLs, Java class-name prefixes and line breaks; cuts to {@link #MAX} characters. */
    static String clean(String msg) {
        if (msg == null) {
            return "unexpected error";
        }
        String m = LIBRARY_URL.matcher(msg).replaceAll("");
        m = CLASS_PREFIX.matcher(m).replaceAll("");
        m = m.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
        if (m.length() > MAX) {
            m = m.substring(0, MAX) + "… (message cut)";
        }
        return m;
    }
}
