package dev.refact.clip.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Bounded, strict reading of the text files a user hands us (prompt lists, hyperparameters, datasets, configs):
 * streamed, with a size limit per file and per line, strict UTF-8, so that {@code /dev/zero} or a 300 MB
 * one-line file gives a one-line error naming the file instead of an {@code OutOfMemoryError}. Errors quote user
 * text only {@linkplain #abbreviate(String, int) abbreviated}.
 */
public final class TextFiles {
    /** Limit for whole-file reads of JSON documents (configs, hyperparameters): 64 MiB. */
    public static final long MAX_JSON_BYTES = 64L << 20;
    /** Limit for one line of a line-oriented file (prompts, JSON lines, CSV rows): 1 MiB. */
    public static final int MAX_LINE_BYTES = 1 << 20;
    /** Limit for the number of lines of a line-oriented file: 10 million. */
    public static final long MAX_LINES = 10_000_000L;

    private TextFiles() {
    }

    /**
     * Reads a whole file as strict UTF-8 (a leading BOM dropped), refusing files larger than {@code maxBytes}
     * without reading more than {@code maxBytes + 1} bytes.
     *
     * @param file     the file
     * @param maxBytes the largest size accepted
     * @return the text
     * @throws IOException one line naming the file: does not exist, is a directory, permission denied, larger than
     *                     the limit, not valid UTF-8
     */
    public static String readString(Path file, long maxBytes) throws IOException {
        FileErrors.requireReadableFile(file, null);
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (IOException e) {
            throw new IOException(file + ": " + FileErrors.reason(e, file), e);
        }
        if (bytes.length > maxBytes) {
            throw new IOException(file + ": larger than " + size(maxBytes) + ", the limit for this file");
        }
        int start = bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB
                && (bytes[2] & 0xff) == 0xBF ? 3 : 0;
        try {
            return strict().decode(ByteBuffer.wrap(bytes, start, bytes.length - start)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 (at byte " + firstInvalid(bytes, start) + ")", e);
        }
    }

    /**
     * Reads a file's lines (split at {@code \n}, a trailing {@code \r} removed, strict UTF-8, a leading BOM
     * dropped), streamed, within the default limits ({@link #MAX_LINE_BYTES}, {@link #MAX_LINES}).
     *
     * @param file the file
     * @return every line, blank ones included
     * @throws IOException one line naming the file and, where there is one, the line
     */
    public static List<String> readLines(Path file) throws IOException {
        return readLines(file, MAX_LINE_BYTES, MAX_LINES);
    }

    /**
     * Reads a file's lines within the given limits (see {@link #readLines(Path)}).
     *
     * @param file         the file
     * @param maxLineBytes the longest line accepted, in bytes
     * @param maxLines     the most lines accepted
     * @return every line, blank ones included
     * @throws IOException one line naming the file and, where there is one, the line
     */
    public static List<String> readLines(Path file, int maxLineBytes, long maxLines) throws IOException {
        FileErrors.requireReadableFile(file, null);
        try (InputStream in = Files.newInputStream(file)) {
            return readLines(in, file.toString(), maxLineBytes, maxLines);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            throw new IOException(file + ": " + FileErrors.reason(e, file), e);
        }
    }

    /**
     * Reads the lines of a stream (standard input, say) within limits; see {@link #readLines(Path)}.
     *
     * @param in           the stream (not closed)
     * @param source       what to call the stream in messages
     * @param maxLineBytes the longest line accepted, in bytes
     * @param maxLines     the most lines accepted
     * @return every line
     * @throws IOException one line naming the source and the line
     */
    public static List<String> readLines(InputStream in, String source, int maxLineBytes, long maxLines)
            throws IOException {
        List<String> out = new ArrayList<>();
        CharsetDecoder decoder = strict();
        InputStream bin = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 1 << 16);
        byte[] line = new byte[256];
        long lineNo = 0;
        while (true) {
            int n = 0;
            int b;
            boolean any = false;
            while ((b = bin.read()) >= 0) {
                any = true;
                if (b == '\n') {
                    break;
                }
                if (n == maxLineBytes) {
                    throw new IOException(source + ": line " + (lineNo + 1) + " is longer than " + size(maxLineBytes)
                            + ", the limit for one line");
                }
                if (n == line.length) {
                    line = Arrays.copyOf(line, Math.min(maxLineBytes, n * 2));
                }
                line[n++] = (byte) b;
            }
            if (!any) {
                return out;
            }
            lineNo++;
            if (lineNo > maxLines) {
                throw new IOException(source + ": more than " + maxLines + " lines, the limit for this file");
            }
            int start = 0;
            if (lineNo == 1 && n >= 3 && (line[0] & 0xff) == 0xEF && (line[1] & 0xff) == 0xBB
                    && (line[2] & 0xff) == 0xBF) {
                start = 3;
            }
            if (n > start && line[n - 1] == '\r') {
                n--;
            }
            try {
                out.add(decoder.decode(ByteBuffer.wrap(line, start, n - start)).toString());
            } catch (CharacterCodingException e) {
                throw new IOException(source + ": line " + lineNo + " is not valid UTF-8", e);
            }
            if (b < 0) {
                return out;
            }
        }
    }

    /**
     * The non-blank lines of a file, stripped; refuses a file without any.
     *
     * @param file the file
     * @param what what the file is, for messages, e.g. {@code "--contrastive file"}
     * @return at least one line
     * @throws IOException if the file cannot be read or has no non-blank line
     */
    public static List<String> readNonBlankLines(Path file, String what) throws IOException {
        List<String> lines = readLines(file).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (lines.isEmpty()) {
            throw new IOException(what + " " + file + " is empty (no non-blank lines)");
        }
        return lines;
    }

    /**
     * {@code text} quoted for an error message, cut to {@code max} characters with the full length noted
     * ({@code "aaaa…" (300000000 characters)}); control characters shown as {@code \\uXXXX}.
     *
     * @param text the user's text
     * @param max  the most characters to show
     * @return the quoted, possibly shortened text
     */
    public static String abbreviate(String text, int max) {
        if (text == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        int shown = Math.min(text.length(), max);
        if (shown < text.length() && shown > 0 && Character.isHighSurrogate(text.charAt(shown - 1))) {
            shown--;
        }
        for (int i = 0; i < shown; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (shown < text.length()) {
            sb.append("…\" (").append(text.length()).append(" characters)");
        } else {
            sb.append('"');
        }
        return sb.toString();
    }

    private static CharsetDecoder strict() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    private static long firstInvalid(byte[] bytes, int start) {
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(8192);
        CharsetDecoder d = strict();
        while (true) {
            java.nio.charset.CoderResult r = d.decode(in, out, true);
            if (r.isError()) {
                return in.position();
            }
            if (r.isUnderflow()) {
                return in.position();
            }
            out.clear();
        }
    }

    private static String size(long bytes) {
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " bytes";
    }
}
