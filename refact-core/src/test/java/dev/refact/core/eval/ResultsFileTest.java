package dev.refact.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ResultsFileTest {
    @TempDir
    Path dir;

    private static JsonObject config() {
        JsonObject c = new JsonObject();
        c.addProperty("mode", "test");
        return c;
    }

    @Test
    void open_lineLongerThanTheLimit_refusedNamingFileAndLine_notReadWhole() throws IOException {
        Path f = dir.resolve("results.jsonl");
        List<String> warnings = new ArrayList<>();
        ResultsFile.open(f, config(), new JsonObject(), warnings::add).close();   // a valid header line
        try (Writer w = Files.newBufferedWriter(f, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND)) {
            char[] block = new char[1 << 20];
            java.util.Arrays.fill(block, 'x');
            for (int i = 0; i <= ResultsFile.MAX_LINE_CHARS >> 20; i++) {
                w.write(block);
            }
            w.write('\n');
        }
        IOException e = assertThrows(IOException.class,
                () -> ResultsFile.open(f, config(), new JsonObject(), warnings::add));
        assertTrue(e.getMessage().startsWith(f + ":2: a line longer than 16 Mi characters"), e.getMessage());
        assertEquals(List.of(), warnings);
    }

    @Test
    void open_noNewlineAtAll_truncatedToEmpty_andStartsAgain() throws IOException {
        Path f = dir.resolve("results.jsonl");
        Files.writeString(f, "{\"format\":");                             // an interrupted first write
        List<String> warnings = new ArrayList<>();
        ResultsFile.open(f, config(), new JsonObject(), warnings::add).close();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("incomplete last line"), warnings.get(0));
        List<String> lines = Files.readAllLines(f);
        assertEquals(1, lines.size(), "a fresh header only");
        assertTrue(lines.get(0).contains("\"config\":{\"mode\":\"test\"}"), lines.get(0));
    }
}
