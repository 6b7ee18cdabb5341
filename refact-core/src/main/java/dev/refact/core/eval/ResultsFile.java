package dev.refact.core.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The JSON-lines results file of an evaluation: a header line with the configuration, then one line per
 * (row, seed) cell, appended and flushed as soon as the cell is done.
 *
 * <pre>
 * {"format":"refact-eval-results","version":1,"config":{…},"info":{…}}
 * {"row":0,"seed":0,"probes":"EGGGGGSSSSS","p_new":[…],"p_new_before":[…],"edit":{…},"ms":812.5}
 * {"row":3,"seed":0,"error":"subject … not found","ms":3.1}
 * </pre>
 * Probe kinds: E efficacy, G generalisation, S specificity, in the order of {@link EvalCase#twoWayProbes()};
 * p(old) = 1 − p(new). Doubles are written with full precision, so a resumed run reads back exactly what it
 * wrote.
 */
final class ResultsFile implements Closeable {
    static final String FORMAT = "refact-eval-results";
    static final int VERSION = 1;
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues()
            .create();

    private final Path file;
    private final Map<Long, CellResult> existing;
    private final BufferedWriter out;

    private ResultsFile(Path file, Map<Long, CellResult> existing, BufferedWriter out) {
        this.file = file;
        this.existing = existing;
        this.out = out;
    }

    static long key(int row, int seed) {
        return ((long) row << 32) | (seed & 0xFFFFFFFFL);
    }

    /**
     * Opens (creating it with a header, or resuming it).
     *
     * @throws IllegalArgumentException if the file was written with another configuration (names the
     *                                  differences), or is not a results file
     * @throws IOException              if a line cannot be parsed (names file and line) or I/O fails
     */
    static ResultsFile open(Path file, JsonObject config, JsonObject info, Consumer<String> warn) throws IOException {
        Map<Long, CellResult> existing = new TreeMap<>();
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("results file " + file + " is a directory");
        }
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        boolean header = false;
        if (Files.exists(file) && Files.size(file) > 0) {
            long size = Files.size(file);
            long end = completeLength(file, size);
            if (end < size) {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(end);
                }
                warn.accept("dropped an incomplete last line of " + file + " (an interrupted write); that cell is "
                        + "computed again");
            }
            // streamed line by line: a long run's file is never held whole (only its parsed cells are)
            try (java.io.Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                BoundedLines lines = new BoundedLines(in, file);
                String line;
                for (int i = 0; (line = lines.next(i + 1)) != null; i++) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonObject o;
                    try {
                        o = JsonParser.parseString(line).getAsJsonObject();
                    } catch (JsonParseException | IllegalStateException e) {
                        throw new IOException(file + ":" + (i + 1) + ": not a JSON object: " + e.getMessage(), e);
                    }
                    if (!header) {
                        checkHeader(file, o, config);
                        header = true;
                        continue;
                    }
                    CellResult c = parseCell(file, i + 1, o);
                    existing.put(key(c.row(), c.seed()), c);
                }
            }
        }
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE),
                StandardCharsets.UTF_8));
        ResultsFile rf = new ResultsFile(file, existing, out);
        if (!header) {
            JsonObject h = new JsonObject();
            h.addProperty("format", FORMAT);
            h.addProperty("version", VERSION);
            h.add("config", config);
            h.add("info", info);
            rf.writeLine(h);
        }
        return rf;
    }

    /** Longest line read back: a cell is a few KB; anything longer is not a results file. */
    static final int MAX_LINE_CHARS = 16 << 20;

    /** Bytes up to and including the last newline (0 if there is none), found from the end in 64 KiB reads. */
    private static long completeLength(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 << 10);
            long pos = size;
            while (pos > 0) {
                int n = (int) Math.min(buf.capacity(), pos);
                pos -= n;
                buf.clear().limit(n);
                while (buf.hasRemaining()) {
                    if (ch.read(buf, pos + buf.position()) < 0) {
                        throw new IOException(file + ": shorter than its size while reading");
                    }
                }
                for (int k = n - 1; k >= 0; k--) {
                    if (buf.get(k) == '\n') {
                        return pos + k + 1;
                    }
                }
            }
            return 0;
        }
    }

    /**
     * Lines of a reader, each at most {@link #MAX_LINE_CHARS} long, read through one char buffer (not a call per
     * character).
     */
    private static final class BoundedLines {
        private final java.io.Reader in;
        private final Path file;
        private final char[] buf = new char[1 << 16];
        private int pos;
        private int lim;

        BoundedLines(java.io.Reader in, Path file) {
            this.in = in;
            this.file = file;
        }

        /** The next line without its newline, or null at the end. */
        String next(int lineNo) throws IOException {
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos == lim) {
                    lim = in.read(buf);
                    pos = 0;
                    if (lim < 0) {
                        lim = 0;
                        return sb.length() == 0 ? null : sb.toString();
                    }
                }
                int start = pos;
                while (pos < lim && buf[pos] != '\n') {
                    pos++;
                }
                if (sb.length() + (pos - start) > MAX_LINE_CHARS) {
                    throw new IOException(file + ":" + lineNo + ": a line longer than " + (MAX_LINE_CHARS >> 20)
                            + " Mi characters: not a results file");
                }
                sb.append(buf, start, pos - start);
                if (pos < lim) {
                    pos++;                                          // the newline
                    return sb.toString();
                }
            }
        }
    }

    private static void checkHeader(Path file, JsonObject h, JsonObject config) {
        if (!h.has("format") || !FORMAT.equals(h.get("format").getAsString())) {
            throw new IllegalArgumentException(file + " is not a refact evaluation results file (its first line has "
                    + "no \"format\":\"" + FORMAT + "\"); use another --out or delete it");
        }
        if (h.get("version").getAsInt() != VERSION) {
            throw new IllegalArgumentException(file + " has results format version " + h.get("version")
                    + "; this version reads " + VERSION);
        }
        JsonObject was = h.getAsJsonObject("config");
        if (!config.equals(was)) {
            Map<String, String> a = flatten(was);
            Map<String, String> b = flatten(config);
            List<String> diffs = new ArrayList<>();
            for (String k : union(a, b)) {
                String x = a.get(k);
                String y = b.get(k);
                if (x == null ? y != null : !x.equals(y)) {
                    diffs.add(k + ": " + abbreviate(x) + " → " + abbreviate(y));
                }
            }
            throw new IllegalArgumentException("results file " + file + " was written by a run with a different "
                    + "configuration, refusing to resume (" + String.join("; ", diffs.subList(0,
                    Math.min(diffs.size(), 6))) + (diffs.size() > 6 ? "; …" : "")
                    + "); use another output directory or delete the file");
        }
    }

    private static List<String> union(Map<String, String> a, Map<String, String> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        b.keySet().stream().filter(k -> !a.containsKey(k)).forEach(keys::add);
        return keys;
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(absent)";
        }
        return s.length() > 40 ? s.substring(0, 37) + "…" : s;
    }

    private static Map<String, String> flatten(JsonObject o) {
        Map<String, String> out = new LinkedHashMap<>();
        flatten("", o, out);
        return out;
    }

    private static void flatten(String prefix, JsonElement e, Map<String, String> out) {
        if (e != null && e.isJsonObject()) {
            for (Map.Entry<String, JsonElement> x : e.getAsJsonObject().entrySet()) {
                flatten(prefix.isEmpty() ? x.getKey() : prefix + "." + x.getKey(), x.getValue(), out);
            }
        } else {
            out.put(prefix, e == null ? "null" : e.isJsonPrimitive() ? e.getAsString() : e.toString());
        }
    }

    /** The cells already in the file, by {@link #key(int, int)}. */
    Map<Long, CellResult> existing() {
        return existing;
    }

    /** Appends one cell and flushes. */
    void append(CellResult c) throws IOException {
        writeLine(toJson(c));
    }

    private void writeLine(JsonObject o) throws IOException {
        out.write(GSON.toJson(o));
        out.write('\n');
        out.flush();
    }

    static JsonObject toJson(CellResult c) {
        JsonObject o = new JsonObject();
        o.addProperty("row", c.row());
        o.addProperty("seed", c.seed());
        if (c.failed()) {
            o.addProperty("error", c.error());
        } else {
            StringBuilder kinds = new StringBuilder();
            c.scores().forEach(s -> kinds.append(s.kind().name().charAt(0)));
            o.addProperty("probes", kinds.toString());
            o.add("p_new", pNew(c.scores()));
            if (!c.before().isEmpty()) {
                o.add("p_new_before", pNew(c.before()));
            }
        }
        if (c.edit() != null) {
            EditSummary e = c.edit();
            JsonObject eo = new JsonObject();
            eo.addProperty("steps", e.steps());
            eo.addProperty("stop_reason", e.stopReason());
            eo.addProperty("p_target", e.targetProbability());
            eo.addProperty("delta_norm", e.deltaNorm());
            eo.addProperty("ms", e.millis());
            o.add("edit", eo);
        }
        o.addProperty("ms", c.millis());
        return o;
    }

    private static JsonArray pNew(List<ProbeScore> scores) {
        JsonArray a = new JsonArray();
        scores.forEach(s -> a.add(s.pNew()));
        return a;
    }

    static CellResult parseCell(Path file, int line, JsonObject o) throws IOException {
        try {
            int row = o.get("row").getAsInt();
            int seed = o.get("seed").getAsInt();
            double ms = o.has("ms") ? o.get("ms").getAsDouble() : 0;
            EditSummary edit = null;
            if (o.has("edit")) {
                JsonObject e = o.getAsJsonObject("edit");
                edit = new EditSummary(e.get("steps").getAsInt(), e.get("stop_reason").getAsString(),
                        e.get("p_target").getAsDouble(), e.get("delta_norm").getAsDouble(), e.get("ms").getAsDouble());
            }
            if (o.has("error")) {
                return new CellResult(row, seed, List.of(), List.of(), edit, o.get("error").getAsString(), ms);
            }
            String kinds = o.get("probes").getAsString();
            List<ProbeScore> scores = scores(row, seed, kinds, o.getAsJsonArray("p_new"));
            List<ProbeScore> before = o.has("p_new_before")
                    ? scores(row, seed, kinds, o.getAsJsonArray("p_new_before")) : List.of();
            return new CellResult(row, seed, scores, before, edit, null, ms);
        } catch (RuntimeException e) {
            throw new IOException(file + ":" + line + ": not a valid result line (" + e + ")", e);
        }
    }

    private static List<ProbeScore> scores(int row, int seed, String kinds, JsonArray p) {
        if (p.size() != kinds.length()) {
            throw new IllegalArgumentException(p.size() + " probabilities for " + kinds.length() + " probes");
        }
        double[] pNew = new double[p.size()];
        for (int i = 0; i < pNew.length; i++) {
            pNew[i] = p.get(i).getAsDouble();
        }
        List<ProbeKind> k = new ArrayList<>();
        for (char ch : kinds.toCharArray()) {
            k.add(switch (ch) {
                case 'E' -> ProbeKind.EFFICACY;
                case 'G' -> ProbeKind.GENERALISATION;
                case 'S' -> ProbeKind.SPECIFICITY;
                default -> throw new IllegalArgumentException("unknown probe kind '" + ch + "'");
            });
        }
        return toScores(row, seed, k, pNew);
    }

    /** ProbeScores with per-kind indices, p(old) = 1 − p(new). */
    static List<ProbeScore> toScores(int row, int seed, List<ProbeKind> kinds, double[] pNew) {
        int[] index = new int[ProbeKind.values().length];
        List<ProbeScore> out = new ArrayList<>(kinds.size());
        for (int i = 0; i < kinds.size(); i++) {
            ProbeKind kind = kinds.get(i);
            out.add(new ProbeScore(row, seed, kind, index[kind.ordinal()]++, 1 - pNew[i], pNew[i]));
        }
        return out;
    }

    Path file() {
        return file;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
