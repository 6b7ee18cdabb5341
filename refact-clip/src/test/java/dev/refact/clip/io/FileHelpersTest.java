package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AtomicFiles, TextFiles, Sha256, FileErrors: the one JDK helper for writes, bounded reads and digests. */
final class FileHelpersTest {
    @TempDir
    Path dir;

    @Test
    void writeString_newFile_hasNormalPermissions0644() throws IOException {
        Path f = dir.resolve("config.json");
        AtomicFiles.writeString(f, "{}");
        assertEquals("{}", Files.readString(f));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void write_failingBody_leavesTargetUnchangedAndNoTempFile() throws IOException {
        Path f = dir.resolve("report.md");
        AtomicFiles.writeString(f, "old");
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write("half".getBytes(StandardCharsets.UTF_8));
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(f));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void write_missingFolder_messageNamesTargetNotTempFile() {
        Path f = dir.resolve("nope/x.safetensors");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(f, "x"));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
    }

    @Test
    void checkWritable_targetIsDirectory_refused() throws IOException {
        Path d = Files.createDirectories(dir.resolve("out"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.checkWritable(d));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        IOException e2 = assertThrows(IOException.class,
                () -> AtomicFiles.checkWritableDirectory(Files.writeString(dir.resolve("f"), "")));
        assertTrue(e2.getMessage().contains("is a file"), e2.getMessage());
    }

    @Test
    void checkWritable_readOnlyExistingFile_refusedAndLeftAsItWas() throws IOException {
        Path f = dir.resolve("base.safetensors");
        AtomicFiles.writeString(f, "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r--r--"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.checkWritable(f));
        assertEquals("cannot write " + f + ": the file is read-only; make it writable or choose another file",
                e.getMessage());
        IOException e2 = assertThrows(IOException.class, () -> AtomicFiles.writeString(f, "new"));
        assertEquals(e.getMessage(), e2.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(f), s.toList());
        }
    }

    @Test
    void readLines_devZero_oneLineErrorInsteadOfOutOfMemory() {
        Path zero = Path.of("/dev/zero");
        IOException e = assertThrows(IOException.class, () -> TextFiles.readLines(zero));
        assertEquals("/dev/zero: line 1 is longer than 1 MiB, the limit for one line", e.getMessage());
        IOException e2 = assertThrows(IOException.class, () -> TextFiles.readString(zero, 1 << 20));
        assertTrue(e2.getMessage().contains("larger than 1 MiB"), e2.getMessage());
    }

    @Test
    void readLines_hugeOneLineFile_refusedAfterTheLineLimit() throws IOException {
        Path f = dir.resolve("big.txt");
        try (OutputStream out = Files.newOutputStream(f)) {
            byte[] block = new byte[1 << 16];
            java.util.Arrays.fill(block, (byte) 'a');
            for (int i = 0; i < 48; i++) { // 3 MiB, one line
                out.write(block);
            }
        }
        IOException e = assertThrows(IOException.class, () -> TextFiles.readLines(f));
        assertTrue(e.getMessage().endsWith("line 1 is longer than 1 MiB, the limit for one line"), e.getMessage());
        assertTrue(e.getMessage().length() < 200, "user text is not echoed");
    }

    @Test
    void readLines_invalidUtf8_namesFileAndLine() throws IOException {
        Path f = Files.write(dir.resolve("p.txt"), new byte[] {'o', 'k', '\n', (byte) 0xff, 'x', '\n'});
        IOException e = assertThrows(IOException.class, () -> TextFiles.readLines(f));
        assertEquals(f + ": line 2 is not valid UTF-8", e.getMessage());
        IOException e2 = assertThrows(IOException.class, () -> TextFiles.readString(f, 100));
        assertEquals(f + ": not valid UTF-8 (at byte 3)", e2.getMessage());
    }

    @Test
    void readLines_crlfAndBom_strippedBlankLinesKept() throws IOException {
        Path f = Files.write(dir.resolve("p.txt"), "\uFEFFa\r\n\r\nb".getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of("a", "", "b"), TextFiles.readLines(f));
        assertEquals(List.of("x", "y"), TextFiles.readLines(new ByteArrayInputStream("x\ny\n".getBytes(
                StandardCharsets.UTF_8)), "stdin", 10, 10));
    }

    @Test
    void readNonBlankLines_emptyOrBlankFile_refused() throws IOException {
        Path f = Files.writeString(dir.resolve("c.txt"), "  \n\n");
        IOException e = assertThrows(IOException.class, () -> TextFiles.readNonBlankLines(f, "--contrastive file"));
        assertEquals("--contrastive file " + f + " is empty (no non-blank lines)", e.getMessage());
    }

    @Test
    void requireReadableFile_missingOrDirectory_saysSoInWords() {
        IOException missing = assertThrows(IOException.class,
                () -> FileErrors.requireReadableFile(dir.resolve("x"), "--prompts"));
        assertEquals("--prompts " + dir.resolve("x") + ": does not exist", missing.getMessage());
        IOException folder = assertThrows(IOException.class, () -> TextFiles.readLines(dir));
        assertTrue(folder.getMessage().endsWith("is a directory, not a file"), folder.getMessage());
        assertEquals(dir.resolve("y") + ": does not exist",
                FileErrors.describe(new java.nio.file.NoSuchFileException(dir.resolve("y").toString())));
        assertEquals("/p: permission denied", FileErrors.describe(new java.nio.file.AccessDeniedException("/p")));
    }

    @Test
    void abbreviate_longUserText_cutWithItsLength() {
        String s = "x".repeat(300_000);
        String q = TextFiles.abbreviate(s, 10);
        assertEquals("\"xxxxxxxxxx…\" (300000 characters)", q);
        assertEquals("\"a\\u000ab\"", TextFiles.abbreviate("a\nb", 10));
    }

    @Test
    void sha256_knownVectorsAndFloatBytes() throws IOException {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.hex(new byte[0]));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.hex("abc"));
        // 1.0f little-endian is 00 00 80 3f
        assertEquals(Sha256.hex(new byte[] {0, 0, (byte) 0x80, 0x3f}), Sha256.ofFloats(new float[] {1f}));
        Path f = Files.writeString(dir.resolve("abc"), "abc");
        assertEquals(Sha256.hex("abc"), Sha256.ofFile(f));
    }
}
