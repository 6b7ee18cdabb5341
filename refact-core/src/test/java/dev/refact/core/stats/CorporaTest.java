package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class CorporaTest {
    @TempDir
    Path dir;

    @Test
    void lines_textFile_yieldsEachLineWithoutTerminators() throws Exception {
        Path f = Files.writeString(dir.resolve("c.txt"), "first line\r\n\nthird – ünïcode\nlast", StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        Corpora.lines(f).forEach(out::add);
        assertEquals(List.of("first line", "", "third – ünïcode", "last"), out);
        List<String> again = new ArrayList<>();
        Corpora.lines(f).forEach(again::add);
        assertEquals(out, again, "each iterator() reads the file anew");
    }

    @Test
    void lines_missingFile_throwsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> Corpora.lines(dir.resolve("absent.txt")));
        assertThrows(NoSuchFileException.class, () -> Corpora.lines(dir));
    }

    @Test
    void lines_invalidUtf8_throwsNamingFileAndLine() throws Exception {
        Path f = Files.write(dir.resolve("bad.txt"), new byte[] {'o', 'k', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        Iterator<String> it = Corpora.lines(f).iterator();
        assertEquals("ok", it.next());
        UncheckedIOException e = assertThrows(UncheckedIOException.class, it::hasNext);
        assertTrue(e.getMessage().contains("bad.txt") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void lines_iteratorClosedEarly_isAutoCloseable() throws Exception {
        Path f = Files.writeString(dir.resolve("c.txt"), "a\nb\nc\n");
        Iterator<String> it = Corpora.lines(f).iterator();
        assertEquals("a", it.next());
        ((AutoCloseable) it).close();
        assertFalse(it.hasNext());
    }

    @Test
    void wordNetGlosses_builtInCorpus_has117791EnglishGlosses() {
        assertTrue(Corpora.wordNetAvailable());
        long n = 0;
        String first = null;
        String last = null;
        long words = 0;
        for (String g : Corpora.wordNetGlosses()) {
            if (first == null) {
                first = g;
            }
            last = g;
            n++;
            words += g.split("\\s+").length;
            assertFalse(g.isBlank());
        }
        assertEquals(117_791, n);
        assertEquals("that which is perceived or known or inferred to have its own distinct existence "
                + "(living or nonliving)", first);
        assertTrue(last.length() > 3, last);
        assertEquals(12.4, words / (double) n, 0.5);
    }
}
