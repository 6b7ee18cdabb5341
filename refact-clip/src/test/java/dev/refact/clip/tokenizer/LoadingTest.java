package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three accepted layouts and clear errors for missing or corrupt files. */
final class LoadingTest {
    @TempDir
    Path tmp;

    private static Path shared() {
        return SharedData.resolve("clip-tokenizer");
    }

    @Test
    void load_diffusersRootWithTokenizerFolder_findsIt() throws IOException {
        Path root = tmp.resolve("sd-root");
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("tokenizer"), shared());
        ClipTokenizer tok = ClipTokenizer.load(root);
        assertArrayEquals(new int[] {320, 1125, 539, 320, 2368}, tok.encode("a photo of a cat"));
    }

    @Test
    void load_gzFile_sameAsFolder() throws IOException {
        ClipTokenizer gz = ClipTokenizer.load(shared().resolve(ClipTokenizer.OPENAI_BPE_FILE));
        ClipTokenizer dir = ClipTokenizer.load(shared());
        assertEquals(dir.vocabulary(), gz.vocabulary());
        assertArrayEquals(dir.encode("An astronaut riding a horse"), gz.encode("An astronaut riding a horse"));
    }

    @Test
    void load_missingFolder_noSuchFile() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ClipTokenizer.load(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void load_emptyFolder_namesExpectedFiles() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
    }

    @Test
    void load_mergesMissing_namesMergesTxt() throws IOException {
        Files.createSymbolicLink(tmp.resolve("vocab.json"), shared().resolve("vocab.json"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
    }

    @Test
    void load_corruptVocab_namesFile() throws IOException {
        Files.writeString(tmp.resolve("vocab.json"), "{\"a\": 0, \"b\": ", StandardCharsets.UTF_8);
        Files.createSymbolicLink(tmp.resolve("merges.txt"), shared().resolve("merges.txt"));
        IOException e = assertThrows(IOException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("vocab.json") && e.getMessage().contains("malformed JSON"), e.getMessage());
        Files.writeString(tmp.resolve("vocab.json"), "{\"a\": \"x\"}", StandardCharsets.UTF_8);
        e = assertThrows(IOException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("is not an integer"), e.getMessage());
        Files.writeString(tmp.resolve("vocab.json"), "{\"a\": 0}", StandardCharsets.UTF_8);
        e = assertThrows(IOException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("<|startoftext|>"), e.getMessage());
    }

    @Test
    void load_corruptMerges_namesLine() throws IOException {
        Files.createSymbolicLink(tmp.resolve("vocab.json"), shared().resolve("vocab.json"));
        Files.writeString(tmp.resolve("merges.txt"), "#version: 0.2\ni n\nthree parts here\n", StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> ClipTokenizer.load(tmp));
        assertTrue(e.getMessage().contains("merges.txt: line 3"), e.getMessage());
    }

    @Test
    void fromOpenAiBpe_notGzip_clearError() throws IOException {
        Path bad = tmp.resolve(ClipTokenizer.OPENAI_BPE_FILE);
        Files.writeString(bad, "not gzip", StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> ClipTokenizer.load(bad));
        assertTrue(e.getMessage().contains("not a valid gzip file"), e.getMessage());
        Path truncated = tmp.resolve("t.txt.gz");
        byte[] whole = Files.readAllBytes(shared().resolve(ClipTokenizer.OPENAI_BPE_FILE));
        Files.write(truncated, java.util.Arrays.copyOf(whole, 1000));
        assertThrows(IOException.class, () -> ClipTokenizer.load(truncated));
    }

    @Test
    void fromOpenAiBpe_smallCustomFile_derivesVocabulary() throws IOException {
        Path gz = tmp.resolve("tiny.txt.gz");
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write("#version: 0.2\nc a\nca t</w>\n".getBytes(StandardCharsets.UTF_8));
        }
        ClipTokenizer tok = ClipTokenizer.fromOpenAiBpe(gz);
        assertEquals(256 + 256 + 2 + 2, tok.vocabularySize());
        assertEquals(java.util.List.of("c a", "ca t</w>"), tok.merges());
        assertEquals(java.util.List.of("cat</w>"), tok.tokens("cat"));
        assertEquals(tok.vocabularySize() - 2, tok.startTokenId());
    }
}
