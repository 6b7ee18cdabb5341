package dev.refact.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's generated tokenizer files. */
final class GeneratedTokenizerTest {
    @TempDir
    Path tmp;

    @Test
    void write_existingFilesHardLinkedElsewhere_replacesThemAtomicallyLeavingTheOtherLinks() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("tokenizer"));
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        for (String name : new String[] {"vocab.json", "merges.txt"}) {
            Files.writeString(shared.resolve(name), "old " + name);
            try {
                Files.createLink(dir.resolve(name), shared.resolve(name));
            } catch (UnsupportedOperationException | IOException e) {
                Assumptions.abort("hard links not supported here: " + e);
            }
        }
        int vocab = GeneratedTokenizer.write(dir, "the cat sat on the mat; the cat ate the rat", 20);
        for (String name : new String[] {"vocab.json", "merges.txt"}) {
            // a rename replaces the folder entry; an in-place write would have changed the shared file too
            assertEquals("old " + name, Files.readString(shared.resolve(name)), name);
        }
        String json = Files.readString(dir.resolve("vocab.json"));
        assertTrue(json.startsWith("{") && json.contains("\"<|endoftext|>\":" + (vocab - 1)), json);
        assertTrue(Files.readString(dir.resolve("merges.txt")).startsWith("#version: 0.2\n"));
    }
}
