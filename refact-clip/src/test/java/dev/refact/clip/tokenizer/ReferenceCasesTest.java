package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compares against cases produced by the Python reference (openai/CLIP SimpleTokenizer + ftfy 6.3.1):
 * the checked-in {@code reference-cases.jsonl.gz} (see README.md beside it), and optionally any
 * other dump of the same format named by {@code -Drefact.tokenizer.cases=FILE}.
 */
final class ReferenceCasesTest {
    private static ClipTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
    }

    @Test
    void referenceCases_checkedIn_allStagesMatch() throws IOException {
        try (InputStream in = new GZIPInputStream(
                ReferenceCasesTest.class.getResourceAsStream("reference-cases.jsonl.gz"))) {
            int n = compare(in, "reference-cases.jsonl.gz");
            assertTrue(n >= 1000, "expected at least 1000 reference cases, read " + n);
        }
    }

    @Test
    void referenceCases_externalDump_allStagesMatch() throws IOException {
        String file = System.getProperty("refact.tokenizer.cases");
        if (file == null) {
            return;
        }
        Path p = Paths.get(file);
        try (InputStream in = file.endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(p)) : Files.newInputStream(p)) {
            compare(in, file);
        }
    }

    private static int compare(InputStream in, String what) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        List<String> failures = new ArrayList<>();
        String line;
        int n = 0;
        while ((line = r.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            n++;
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            String text = o.get("text").getAsString();
            String stage = null;
            if (o.has("ftfy") && !Ftfy.fixText(text).equals(o.get("ftfy").getAsString())) {
                stage = "ftfy: got " + escape(Ftfy.fixText(text)) + " want " + escape(o.get("ftfy").getAsString());
            } else if (o.has("cleaned") && !TextCleaner.clean(text).equals(o.get("cleaned").getAsString())) {
                stage = "cleaned: got " + escape(TextCleaner.clean(text)) + " want "
                        + escape(o.get("cleaned").getAsString());
            } else {
                JsonArray ids = o.getAsJsonArray("ids");
                int[] want = new int[ids.size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = ids.get(i).getAsInt();
                }
                int[] got = tokenizer.encode(text);
                if (!java.util.Arrays.equals(want, got)) {
                    stage = "ids: got " + java.util.Arrays.toString(got) + " want " + java.util.Arrays.toString(want);
                } else if (o.has("decoded") && !tokenizer.decode(got).equals(o.get("decoded").getAsString())) {
                    stage = "decoded: got " + escape(tokenizer.decode(got));
                }
            }
            if (stage != null) {
                failures.add("line " + n + " text " + escape(text) + ": " + stage);
            }
        }
        if (!failures.isEmpty()) {
            StringBuilder sb = new StringBuilder(failures.size() + " of " + n + " cases differ in " + what + ":\n");
            failures.stream().limit(40).forEach(f -> sb.append(f).append('\n'));
            assertEquals("", sb.toString());
        }
        return n;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) {
                sb.append((char) cp);
            } else {
                sb.append(String.format("\\u{%X}", cp));
            }
        });
        return sb.append('"').toString();
    }
}
