package dev.refact.examples;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.refact.clip.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a small CLIP-format BPE tokenizer ({@code vocab.json} + {@code merges.txt}) learned from a given text,
 * so that the demo can run on a fresh machine without any downloaded vocabulary.
 *
 * <p>The layout is CLIP's: the 256 byte symbols of GPT-2's byte-to-unicode table, the same 256 with
 * {@code </w>}, one token per merge, then {@code <|startoftext|>} and {@code <|endoftext|>}. Merges are learned
 * by plain BPE over the lower-cased words of the training text. The result is a valid CLIP tokenizer, just with
 * a tiny vocabulary: it is for demos and tests, not for real checkpoints (which ship their own).
 */
public final class GeneratedTokenizer {
    private GeneratedTokenizer() {
    }

    /**
     * Learns {@code merges} merges from {@code text} and writes {@code vocab.json} and {@code merges.txt} into
     * {@code dir}.
     *
     * @param dir    the tokenizer folder, created if needed; existing {@code vocab.json}/{@code merges.txt} are
     *               replaced, each atomically (a failed write leaves that file as it was)
     * @param text   training text; its lower-cased letter/digit runs are the words
     * @param merges the most merges to learn; learning stops early when no pair occurs at least twice
     * @return the vocabulary size (the text encoder's {@code vocab_size} must be at least this)
     * @throws IOException if the folder or a file cannot be written
     */
    public static int write(Path dir, String text, int merges) throws IOException {
        String[] byteSymbols = byteSymbols();
        Map<List<String>, Integer> words = new LinkedHashMap<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (w.isEmpty()) {
                continue;
            }
            List<String> symbols = new ArrayList<>();
            byte[] bytes = w.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i++) {
                String s = byteSymbols[bytes[i] & 0xff];
                symbols.add(i == bytes.length - 1 ? s + "</w>" : s);
            }
            words.merge(symbols, 1, Integer::sum);
        }
        List<String[]> learned = new ArrayList<>();
        for (int m = 0; m < merges; m++) {
            Map<String, Integer> pairs = new HashMap<>();
            String best = null;
            int bestCount = 0;
            for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
                List<String> s = e.getKey();
                for (int i = 0; i + 1 < s.size(); i++) {
                    String key = s.get(i) + " " + s.get(i + 1);
                    int c = pairs.merge(key, e.getValue(), Integer::sum);
                    if (c > bestCount || (c == bestCount && key.compareTo(best) < 0)) {
                        best = key;
                        bestCount = c;
                    }
                }
            }
            if (best == null || bestCount < 2) {
                break;
            }
            String[] pair = best.split(" ");
            learned.add(pair);
            Map<List<String>, Integer> next = new LinkedHashMap<>();
            for (Map.Entry<List<String>, Integer> e : words.entrySet()) {
                List<String> s = e.getKey();
                List<String> out = new ArrayList<>();
                for (int i = 0; i < s.size(); i++) {
                    if (i + 1 < s.size() && s.get(i).equals(pair[0]) && s.get(i + 1).equals(pair[1])) {
                        out.add(pair[0] + pair[1]);
                        i++;
                    } else {
                        out.add(s.get(i));
                    }
                }
                next.merge(out, e.getValue(), Integer::sum);
            }
            words = next;
        }
        JsonObject vocab = new JsonObject();
        int id = 0;
        for (String s : byteSymbols) {
            vocab.addProperty(s, id++);
        }
        for (String s : byteSymbols) {
            vocab.addProperty(s + "</w>", id++);
        }
        StringBuilder mergesTxt = new StringBuilder("#version: 0.2\n");
        for (String[] p : learned) {
            String merged = p[0] + p[1];
            if (!vocab.has(merged)) {
                vocab.addProperty(merged, id++);
            }
            mergesTxt.append(p[0]).append(' ').append(p[1]).append('\n');
        }
        vocab.addProperty("<|startoftext|>", id++);
        vocab.addProperty("<|endoftext|>", id++);
        Files.createDirectories(dir);
        // each file is replaced atomically (a temporary file renamed over it): a failed write leaves it as it was
        AtomicFiles.writeString(dir.resolve("vocab.json"),
                new GsonBuilder().disableHtmlEscaping().create().toJson(vocab));
        AtomicFiles.writeString(dir.resolve("merges.txt"), mergesTxt.toString());
        return id;
    }

    /** GPT-2/CLIP's reversible byte → printable-character table. */
    static String[] byteSymbols() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        String[] out = new String[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (bs.contains(b)) {
                out[b] = new String(Character.toChars(b));
            } else {
                out[b] = new String(Character.toChars(256 + n++));
            }
        }
        return out;
    }
}
