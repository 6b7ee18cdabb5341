package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code refact tokenize} through {@link RefactCommand#execute}. */
final class TokenizeCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = RefactCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    private static String dir() {
        return SharedData.resolve("clip-tokenizer").toString();
    }

    @Test
    void tokenize_textArguments_oneJsonLinePerText() {
        Run r = run("tokenize", "--tokenizer", dir(), "a photo of a cat", "naïve café");
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"text\": \"a photo of a cat\", \"ids\": [49406, 320, 1125, 539, 320, 2368, 49407]}\n"
                + "{\"text\": \"naïve café\", \"ids\": [49406, 1097, 35689, 563, 15304, 49407]}\n",
                r.out().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void tokenize_gzAndDiffusersRoot_sameOutput() throws IOException {
        Path root = tmp.resolve("model");
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("tokenizer"), SharedData.resolve("clip-tokenizer"));
        Run a = run("tokenize", "--tokenizer", root.toString(), "An astronaut riding a horse");
        Run b = run("tokenize", "--tokenizer",
                SharedData.resolve("clip-tokenizer/bpe_simple_vocab_16e6.txt.gz").toString(), "An astronaut riding a horse");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
    }

    @Test
    void tokenize_jsonlWithBlankLines_readsEveryText() throws IOException {
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \"a cat\"}\n\n{\"text\": \"emoji 🐱\\n\\\"q\\\"\", \"other\": 1}\n",
                StandardCharsets.UTF_8);
        Run r = run("tokenize", "--tokenizer", dir(), "--jsonl", in.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size());
        assertEquals("{\"text\": \"a cat\", \"ids\": [49406, 320, 2368, 49407]}", lines.get(0));
        assertTrue(lines.get(1).startsWith("{\"text\": \"emoji 🐱\\n\\\"q\\\"\", \"ids\": [49406, 16327, "), lines.get(1));
    }

    @Test
    void tokenize_badJsonlLine_errorNamesLine() throws IOException {
        Path in = tmp.resolve("bad.jsonl");
        Files.writeString(in, "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n", StandardCharsets.UTF_8);
        Run r = run("tokenize", "--tokenizer", dir(), "--jsonl", in.toString());
        assertEquals(1, r.code());
        assertEquals("", r.out(), "nothing is printed before the input is checked");
        assertTrue(r.err().contains("refact: " + in + ": line 2 is not a JSON object with a string \"text\""), r.err());
        Files.writeString(in, "{\"text\": \"ok\"}\n\n{not json\n", StandardCharsets.UTF_8);
        r = run("tokenize", "--tokenizer", dir(), "--jsonl", in.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains(": line 3 is not valid JSON"), r.err());
    }

    @Test
    void tokenize_maxLength_truncatesKeepingEndLast() {
        String words = String.join(" ", java.util.Collections.nCopies(10, "word"));
        Run r = run("tokenize", "--tokenizer", dir(), "--max-length", "5", words);
        assertEquals(0, r.code(), r.err());
        assertEquals("{\"text\": \"" + words + "\", \"ids\": [49406, 2653, 2653, 2653, 49407]}", r.out().strip());
        Run full = run("tokenize", "--tokenizer", dir(), words);
        assertEquals(12, full.out().split(",").length - 1, "no truncation by default: 12 ids");
    }

    @Test
    void tokenize_emptyText_startAndEndOnly() {
        Run r = run("tokenize", "--tokenizer", dir(), "");
        assertEquals("{\"text\": \"\", \"ids\": [49406, 49407]}", r.out().strip());
    }

    @Test
    void tokenize_controlCharactersAndLoneSurrogate_escapedLikePython() {
        StringBuilder sb = new StringBuilder();
        TokenizeCommand.appendJsonString(sb, "a\u0001\t\\\u007f\u00e9\uD800");
        assertEquals("\"a\\u0001\\t\\\\\u007f\u00e9\\ud800\"", sb.toString());
    }

    @Test
    void tokenize_missingTokenizerOrInput_errors() {
        Run r = run("tokenize", "--tokenizer", tmp.resolve("none").toString(), "x");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("refact: "), r.err());
        assertTrue(r.err().contains("none"), r.err());
        Run noInput = run("tokenize", "--tokenizer", dir());
        assertEquals(2, noInput.code());
        assertTrue(noInput.err().contains("no input"), noInput.err());
        Run bad = run("tokenize", "--tokenizer", dir(), "--max-length", "1", "x");
        assertEquals(2, bad.code());
    }
}
