package dev.refact.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code refact tokenize}: CLIP token ids of texts, one JSON line per text.
 *
 * <p>Output lines look like Python's {@code json.dumps({"text": t, "ids": ids}, ensure_ascii=False)}:
 * {@code {"text": "a cat", "ids": [49406, 320, 2368, 49407]}} (start and end tokens, no padding; with
 * {@code --max-length N} truncated so that the end token stays last). Non-ASCII text is written as
 * UTF-8, not escaped; a lone surrogate is written as a {@code \}{@code uXXXX} escape.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print CLIP token ids (with start/end tokens) of each text as a JSON line.",
            "Example: refact tokenize --tokenizer sd-v1-5/tokenizer \"a photo of a cat\""})
public final class TokenizeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "tokenizer folder (vocab.json + merges.txt), a diffusers model folder with tokenizer/, "
                    + "or bpe_simple_vocab_16e6.txt.gz (default: the CLIP vocabulary bundled in refact-clip)")
    Path tokenizer;

    @Option(names = "--jsonl", paramLabel = "FILE",
            description = "read texts from JSON lines {\"text\": ...} (blank lines skipped; '-' = stdin)")
    String jsonl;

    @Option(names = "--max-length", paramLabel = "N",
            description = "truncate to N ids (at least 2) keeping the end token last; default: no truncation")
    Integer maxLength;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "texts to tokenize")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        if (maxLength != null && maxLength < 2) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--max-length must be at least 2 (start + end token), got " + maxLength);
        }
        List<String> all = new ArrayList<>(texts);
        if (jsonl != null) {
            all.addAll(readJsonl(jsonl));
        }
        if (all.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no input: give TEXT arguments or --jsonl FILE");
        }
        ClipTokenizer tok = tokenizer == null ? ClipTokenizer.bundled() : ClipTokenizer.load(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        for (String text : all) {
            long[] ids = maxLength == null ? tok.inputIds(text, Integer.MAX_VALUE, Padding.NONE)
                    : tok.inputIds(text, maxLength, Padding.NONE);
            StringBuilder line = new StringBuilder(text.length() + ids.length * 7 + 24);
            line.append("{\"text\": ");
            appendJsonString(line, text);
            line.append(", \"ids\": [");
            for (int i = 0; i < ids.length; i++) {
                if (i > 0) {
                    line.append(", ");
                }
                line.append(ids[i]);
            }
            line.append("]}");
            out.println(line);
        }
        out.flush();
        return 0;
    }

    /** Reads {@code {"text": ...}} lines; the whole file is checked before anything is printed. */
    private static List<String> readJsonl(String source) throws IOException {
        List<String> out = new ArrayList<>();
        // bounded and strict: a huge line or /dev/zero is refused with the file and line named
        List<String> lines = source.equals("-")
                ? dev.refact.clip.io.TextFiles.readLines(System.in, "standard input",
                        dev.refact.clip.io.TextFiles.MAX_LINE_BYTES, dev.refact.clip.io.TextFiles.MAX_LINES)
                : dev.refact.clip.io.TextFiles.readLines(Path.of(source));
        {
            int n = 0;
            for (String line : lines) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                String text = null;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (e.isJsonObject()) {
                        JsonObject o = e.getAsJsonObject();
                        JsonElement t = o.get("text");
                        if (t != null && t.isJsonPrimitive() && t.getAsJsonPrimitive().isString()) {
                            text = t.getAsString();
                        }
                    }
                } catch (JsonParseException ex) {
                    throw new IllegalArgumentException(source + ": line " + n + " is not valid JSON ("
                            + ErrorMessages.clean(ex.getMessage()) + ")", ex);
                }
                if (text == null) {
                    throw new IllegalArgumentException(source + ": line " + n
                            + " is not a JSON object with a string \"text\"");
                }
                out.add(text);
            }
        }
        return out;
    }

    /** Python {@code json.dumps(s, ensure_ascii=False)}. */
    static void appendJsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                case '\b':
                    sb.append("\\b");
                    break;
                case '\f':
                    sb.append("\\f");
                    break;
                default:
                    boolean lone = Character.isHighSurrogate(c)
                            ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                            : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || lone) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
