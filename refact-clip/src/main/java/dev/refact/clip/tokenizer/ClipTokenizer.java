package dev.refact.clip.tokenizer;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The CLIP byte-level BPE tokenizer of Stable Diffusion v1.x / openai CLIP ViT-L/14, giving the
 * same ids as openai/CLIP {@code simple_tokenizer.SimpleTokenizer} (with ftfy 6.3.1) and, except
 * for the cases listed below, HF's slow {@code CLIPTokenizer}.
 *
 * <p>Pipeline for one text, each step exactly as the reference does it:
 * <ol>
 *   <li>ftfy {@code fix_text} with its defaults (ported in full): {@code unescape_html} (only
 *       {@code &name;}/{@code &#..;} forms and ftfy's all-caps names; off for a line containing
 *       {@code <} and every line after it), {@code fix_encoding} (mojibake: re-encode in Latin-1,
 *       sloppy Windows-1252/1251/1250/1253/1254/1257, ISO-8859-2, MacRoman, CP437 and decode as UTF-8
 *       or CESU-8, guided by ftfy's badness heuristic, with {@code restore_byte_a0},
 *       {@code replace_lossy_sequences}, {@code decode_inconsistent_utf8}), {@code fix_c1_controls},
 *       {@code fix_latin_ligatures} (ﬁ → fi), {@code fix_character_width} (ＡＢＣ → ABC, U+3000 →
 *       space, halfwidth kana), {@code uncurl_quotes} (’ → '), {@code fix_line_breaks},
 *       {@code fix_surrogates}, {@code remove_terminal_escapes}, {@code remove_control_chars}, NFC;
 *       repeated per line until nothing changes;</li>
 *   <li>{@code html.unescape} twice (CPython 3.11 rules), {@code strip()};</li>
 *   <li>runs of {@code regex} {@code \s} (Unicode White_Space: includes U+00A0, U+2000..U+200A,
 *       U+3000, U+1680, U+2028/9, U+202F, U+205F, U+0085; not U+200B) become one space,
 *       {@code strip()}, then Python {@code str.lower()} (full mappings: İ → i̇; CPython's final
 *       sigma rule);</li>
 *   <li>words by CLIP's pattern {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|
 *       [\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+} with {@code regex.IGNORECASE} (so {@code 'ſ} is a
 *       contraction and U+0345 matches nothing and is dropped);</li>
 *   <li>each word's UTF-8 bytes as byte-unicode symbols, {@code </w>} on the last, rank-ordered
 *       merges; a word equal to {@code <|startoftext|>} / {@code <|endoftext|>} becomes that special id.</li>
 * </ol>
 * Character properties come from CPython 3.11 (Unicode 14.0) and the {@code regex} module, shipped as
 * a resource, so results do not depend on the JVM's Unicode version. Differences from the reference:
 * a decimal HTML reference with more than 4300 digits is decoded (CPython 3.11 raises
 * {@code ValueError}); HF's slow tokenizer does not apply {@code html.unescape} itself and splits
 * its added tokens before cleaning, so it can differ on HTML entities inside lines containing
 * {@code <}, and on texts that contain {@code <|startoftext|>} / {@code <|endoftext|>}.
 *
 * <p>Instances are immutable and thread-safe; a bounded cache (65,536 words) remembers BPE results.
 *
 * <pre>{@code
 * ClipTokenizer tok = ClipTokenizer.load(Path.of("stable-diffusion-v1-5/tokenizer"));
 * long[] ids = tok.inputIds("a photo of a cat", 77, Padding.END_TOKEN); // [49406, 320, 1125, ..., 49407, 49407]
 * SubjectSpan s = tok.locateSubject("a photo of a cat", "cat");             // positions [5, 6)
 * }</pre>
 */
public final class ClipTokenizer {
    /** Id of {@code <|startoftext|>} in the CLIP vocabulary. */
    public static final int START_TOKEN_ID = 49406;
    /** Id of {@code <|endoftext|>} in the CLIP vocabulary (also SD's padding id). */
    public static final int END_TOKEN_ID = 49407;
    /** CLIP's text context length (start + 75 tokens + end). */
    public static final int CONTEXT_LENGTH = 77;
    /** Start token text. */
    public static final String START_TOKEN = "<|startoftext|>";
    /** End token text. */
    public static final String END_TOKEN = "<|endoftext|>";
    /** File name of the openai BPE file. */
    public static final String OPENAI_BPE_FILE = "bpe_simple_vocab_16e6.txt.gz";

    /** The reference reads merges {@code [1 : 49152 - 256 - 2 + 1]} of the merges file. */
    static final int MAX_MERGES = 49152 - 256 - 2;
    private static final String END_OF_WORD = "</w>";

    private final Map<String, Integer> vocabulary;
    private final String[] idToToken;
    private final List<String> merges;
    private final int startId;
    private final int endId;
    private final int contextLength;
    private final BytePairEncoder encoder;
    private final String source;
    private final Padding padding;

    /** A copy of {@code o} whose default padding is {@code padding}. */
    private ClipTokenizer(ClipTokenizer o, Padding padding) {
        this.vocabulary = o.vocabulary;
        this.idToToken = o.idToToken;
        this.merges = o.merges;
        this.startId = o.startId;
        this.endId = o.endId;
        this.contextLength = o.contextLength;
        this.encoder = o.encoder;
        this.source = o.source;
        this.padding = padding;
    }

    private ClipTokenizer(Map<String, Integer> vocab, List<String[]> mergePairs, String source) throws IOException {
        this.source = source;
        this.padding = Padding.END_TOKEN;
        int size = vocab.size();
        String[] byId = new String[size];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (id < 0 || id >= size) {
                throw new IOException(source + ": id " + id + " of token '" + e.getKey()
                        + "' is outside [0, " + size + ")");
            }
            if (byId[id] != null) {
                throw new IOException(source + ": id " + id + " is used by both '" + byId[id] + "' and '"
                        + e.getKey() + "'");
            }
            byId[id] = e.getKey();
        }
        LinkedHashMap<String, Integer> ordered = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            ordered.put(byId[i], i);
        }
        this.vocabulary = Collections.unmodifiableMap(ordered);
        this.idToToken = byId;
        this.startId = required(vocab, START_TOKEN, source);
        this.endId = required(vocab, END_TOKEN, source);
        this.contextLength = CONTEXT_LENGTH;

        char[] byteChar = ByteUnicode.BYTE_TO_CHAR;
        int[] byteSym = new int[256];
        int[] byteEndSym = new int[256];
        for (int b = 0; b < 256; b++) {
            byteSym[b] = required(vocab, String.valueOf(byteChar[b]), source);
            byteEndSym[b] = required(vocab, byteChar[b] + END_OF_WORD, source);
        }
        int m = mergePairs.size();
        int[] left = new int[m];
        int[] right = new int[m];
        int[] result = new int[m];
        List<String> mergeList = new ArrayList<>(m);
        for (int r = 0; r < m; r++) {
            String[] p = mergePairs.get(r);
            Integer a = vocab.get(p[0]);
            Integer b = vocab.get(p[1]);
            Integer ab = vocab.get(p[0] + p[1]);
            if (a == null || b == null || ab == null) {
                throw new IOException(source + ": merge " + (r + 1) + " '" + p[0] + " " + p[1]
                        + "' uses a token missing from the vocabulary");
            }
            left[r] = a;
            right[r] = b;
            result[r] = ab;
            mergeList.add(p[0] + " " + p[1]);
        }
        this.merges = List.copyOf(mergeList);
        this.encoder = new BytePairEncoder(byteSym, byteEndSym, left, right, result, START_TOKEN, startId,
                END_TOKEN, endId);
    }

    private static int required(Map<String, Integer> vocab, String token, String source) throws IOException {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IOException(source + ": token '" + token + "' is missing from the vocabulary");
        }
        return id;
    }

    // ------------------------------------------------------------------------------------------ loading

    /**
     * Loads a tokenizer from an HF {@code tokenizer/} folder ({@code vocab.json} + {@code merges.txt}),
     * from a model root that has such a {@code tokenizer/} folder inside (diffusers layout), or from
     * an openai {@code bpe_simple_vocab_16e6.txt.gz} file.
     *
     * @param path a folder or the {@code .txt.gz} file
     * @return the tokenizer
     * @throws NoSuchFileException if {@code path} or the files in it are missing
     * @throws IOException         if a file is unreadable or malformed (the message names it)
     */
    public static ClipTokenizer load(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        if (Files.isRegularFile(path)) {
            if (path.getFileName().toString().endsWith(".gz")) {
                return fromOpenAiBpe(path);
            }
            throw new IOException(path + ": expected a folder with vocab.json and merges.txt, a model folder "
                    + "with tokenizer/, or " + OPENAI_BPE_FILE);
        }
        if (!Files.isDirectory(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such tokenizer folder or file");
        }
        Path dir = path;
        if (!Files.exists(dir.resolve("vocab.json")) && !Files.exists(dir.resolve("merges.txt"))) {
            Path sub = path.resolve("tokenizer");
            if (Files.isDirectory(sub)) {
                dir = sub;
            } else if (Files.isRegularFile(path.resolve(OPENAI_BPE_FILE))) {
                return fromOpenAiBpe(path.resolve(OPENAI_BPE_FILE));
            } else {
                throw new NoSuchFileException(path.resolve("vocab.json").toString(), null,
                        "no vocab.json + merges.txt in " + path + " or in " + sub);
            }
        }
        return fromVocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"));
    }

    /**
     * Loads HF-format files.
     *
     * @param vocabJson a JSON object token → id
     * @param mergesTxt {@code #version} header line, then one {@code left right} merge per line
     * @return the tokenizer, padding with the end token by default
     * @throws IOException if a file is missing, unreadable or malformed (the message names it)
     */
    public static ClipTokenizer fromVocabAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        Objects.requireNonNull(vocabJson, "vocabJson");
        Objects.requireNonNull(mergesTxt, "mergesTxt");
        Map<String, Integer> vocab = readVocab(vocabJson);
        String text = readUtf8(mergesTxt, readBounded(requireFile(mergesTxt)));
        // HF: read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]
        String[] lines = PyText.strip(text).split("\n", -1);
        List<String[]> pairs = parseMerges(lines, mergesTxt);
        return new ClipTokenizer(vocab, pairs, vocabJson + " + " + mergesTxt);
    }

    /**
     * Builds the tokenizer from openai/CLIP's {@code bpe_simple_vocab_16e6.txt.gz} the way
     * {@code SimpleTokenizer.__init__} does: merges are lines {@code [1 : 48895]}; the vocabulary is
     * the 256 byte-unicode symbols, the same with {@code </w>}, one token per merge, then
     * {@code <|startoftext|>}, {@code <|endoftext|>} (49408 entries).
     *
     * @param bpeSimpleVocabTxtGz the gzipped merges file, e.g. {@code bpe_simple_vocab_16e6.txt.gz}
     * @return the tokenizer, padding with the end token by default
     * @throws IOException if the file is missing, not gzip, not UTF-8 or malformed
     */
    public static ClipTokenizer fromOpenAiBpe(Path bpeSimpleVocabTxtGz) throws IOException {
        Objects.requireNonNull(bpeSimpleVocabTxtGz, "bpeSimpleVocabTxtGz");
        try (InputStream in = Files.newInputStream(requireFile(bpeSimpleVocabTxtGz))) {
            return fromOpenAiBpe(in, bpeSimpleVocabTxtGz);
        }
    }

    /** Resource path of the bundled openai vocabulary. */
    static final String BUNDLED_RESOURCE = "/dev/refact/clip/tokenizer/" + OPENAI_BPE_FILE;

    /** Lazily built, shared (instances are immutable). */
    private static final class Bundled {
        static final ClipTokenizer INSTANCE = load();

        private static ClipTokenizer load() {
            try (InputStream in = ClipTokenizer.class.getResourceAsStream(BUNDLED_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("refact-clip is missing its resource " + BUNDLED_RESOURCE);
                }
                return fromOpenAiBpe(in, Path.of("refact-clip!" + BUNDLED_RESOURCE));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot read the bundled " + OPENAI_BPE_FILE, e);
            }
        }
    }

    /**
     * The CLIP tokenizer built from openai's {@code bpe_simple_vocab_16e6.txt.gz} (MIT, shipped inside
     * refact-clip, licence in {@code dev/refact/clip/tokenizer/bpe_simple_vocab_16e6.LICENSE.txt}): the
     * vocabulary of every Stable Diffusion text encoder (SD 1.x, 2.x and both SDXL encoders), used when a model
     * has no {@code tokenizer/} folder. Pads with the end token; see {@link #withPadding}. Shared instance.
     *
     * @return the shared bundled tokenizer, built on first use
     * @throws java.io.UncheckedIOException if the bundled resource cannot be read (a broken refact-clip jar)
     */
    public static ClipTokenizer bundled() {
        return Bundled.INSTANCE;
    }

    private static ClipTokenizer fromOpenAiBpe(InputStream gz, Path bpeSimpleVocabTxtGz) throws IOException {
        byte[] raw;
        try (InputStream in = new GZIPInputStream(gz)) {
            ByteArrayOutputStream bos = new ByteArrayOutputStream(1 << 20);
            in.transferTo(bos);
            raw = bos.toByteArray();
        } catch (ZipException | java.io.EOFException e) {
            throw new IOException(bpeSimpleVocabTxtGz + ": not a valid gzip file (" + e.getMessage() + ")", e);
        }
        String[] lines = firstLines(readUtf8(bpeSimpleVocabTxtGz, raw), MAX_MERGES + 1);
        List<String[]> pairs = parseMerges(lines, bpeSimpleVocabTxtGz);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b : ByteUnicode.VOCAB_ORDER) {
            vocab.put(String.valueOf(ByteUnicode.BYTE_TO_CHAR[b]), vocab.size());
        }
        for (int b : ByteUnicode.VOCAB_ORDER) {
            vocab.put(ByteUnicode.BYTE_TO_CHAR[b] + END_OF_WORD, vocab.size());
        }
        for (String[] p : pairs) {
            // vocab.append(''.join(merge)) then dict(zip(vocab, range)): a repeated token keeps its last id
            vocab.put(p[0] + p[1], vocab.size());
        }
        vocab.put(START_TOKEN, vocab.size());
        vocab.put(END_TOKEN, vocab.size());
        return new ClipTokenizer(vocab, pairs, bpeSimpleVocabTxtGz.toString());
    }

    /** {@code text.split('\n')[:limit]} without splitting the rest. */
    private static String[] firstLines(String text, int limit) {
        List<String> out = new ArrayList<>(limit);
        int pos = 0;
        while (out.size() < limit) {
            int nl = text.indexOf('\n', pos);
            if (nl < 0) {
                out.add(text.substring(pos));
                break;
            }
            out.add(text.substring(pos, nl));
            pos = nl + 1;
        }
        return out.toArray(new String[0]);
    }

    private static Path requireFile(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "tokenizer file missing");
        }
        return p;
    }

    private static String readUtf8(Path file, byte[] bytes) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8 (" + e + ")", e);
        }
    }

    private static List<String[]> parseMerges(String[] lines, Path file) throws IOException {
        int end = Math.min(lines.length, MAX_MERGES + 1);
        List<String[]> pairs = new ArrayList<>(Math.max(0, end - 1));
        for (int i = 1; i < end; i++) {
            if (i == lines.length - 1 && lines[i].isEmpty()) {
                break; // the newline at the end of the file (the reference would add an empty merge)
            }
            String[] parts = splitPython(lines[i]);
            if (parts.length != 2) {
                throw new IOException(file + ": line " + (i + 1) + " is not a merge 'left right': \""
                        + lines[i] + "\"");
            }
            pairs.add(parts);
        }
        if (pairs.isEmpty()) {
            throw new IOException(file + ": no merges found");
        }
        return pairs;
    }

    /** Python {@code str.split()} (runs of {@code isspace} characters). */
    private static String[] splitPython(String line) {
        List<String> out = new ArrayList<>(2);
        int i = 0;
        while (i < line.length()) {
            while (i < line.length() && PyText.isSpace(line.codePointAt(i))) {
                i += Character.charCount(line.codePointAt(i));
            }
            int s = i;
            while (i < line.length() && !PyText.isSpace(line.codePointAt(i))) {
                i += Character.charCount(line.codePointAt(i));
            }
            if (i > s) {
                out.add(line.substring(s, i));
            }
        }
        return out.toArray(new String[0]);
    }

    /** Tokenizer files are a few MB; anything over 64 MiB is refused before it is read whole. */
    private static byte[] readBounded(Path file) throws IOException {
        long limit = dev.refact.clip.io.TextFiles.MAX_JSON_BYTES;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) limit + 1);
            if (b.length > limit) {
                throw new dev.refact.clip.io.CheckpointFormatException(file, "larger than 64 MiB; not a tokenizer file");
            }
            return b;
        }
    }

    private static Map<String, Integer> readVocab(Path file) throws IOException {
        String text = readUtf8(file, readBounded(requireFile(file)));
        Map<String, Integer> vocab = new LinkedHashMap<>(1 << 17);
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new IOException(file + ": expected a JSON object token -> id, found " + r.peek());
            }
            r.beginObject();
            while (r.hasNext()) {
                String token = r.nextName();
                JsonToken kind = r.peek();
                String value = kind == JsonToken.NUMBER || kind == JsonToken.STRING ? r.nextString() : null;
                int id;
                try {
                    if (kind != JsonToken.NUMBER) {
                        throw new NumberFormatException();
                    }
                    id = Integer.parseInt(value);
                } catch (NumberFormatException e) {
                    throw new IOException(file + ": id of token '" + token + "' is not an integer: "
                            + (value == null ? kind : value), e);
                }
                vocab.put(token, id); // like json.load, a repeated key keeps its last value
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new IOException(file + ": unexpected content after the JSON object");
            }
        } catch (MalformedJsonException | IllegalStateException | java.io.EOFException e) {
            throw new IOException(file + ": malformed JSON (" + e.getMessage() + ")", e);
        }
        if (vocab.isEmpty()) {
            throw new IOException(file + ": empty vocabulary");
        }
        return vocab;
    }

    // ------------------------------------------------------------------------------------------ API

    /**
     * Id of {@code <|startoftext|>} as read from the vocabulary (49406 for CLIP).
     *
     * @return the start token's id
     */
    public int startTokenId() {
        return startId;
    }

    /**
     * Id of {@code <|endoftext|>} as read from the vocabulary (49407 for CLIP).
     *
     * @return the end token's id
     */
    public int endTokenId() {
        return endId;
    }

    /**
     * The model's text length, 77.
     *
     * @return the number of input ids {@link #inputIds(String)} returns, start and end tokens included
     */
    public int contextLength() {
        return contextLength;
    }

    /**
     * Number of vocabulary entries (49408 for CLIP).
     *
     * @return the vocabulary size; valid ids are {@code [0, vocabularySize())}
     */
    public int vocabularySize() {
        return idToToken.length;
    }

    /**
     * Unmodifiable token → id map, in id order.
     *
     * @return the vocabulary, shared (not copied)
     */
    public Map<String, Integer> vocabulary() {
        return vocabulary;
    }

    /**
     * The merges in rank order, each as {@code "left right"}.
     *
     * @return the unmodifiable merge list, highest priority first
     */
    public List<String> merges() {
        return merges;
    }

    /**
     * The token string of an id, e.g. {@code cat</w>}.
     *
     * @param id a token id in {@code [0, vocabularySize())}
     * @return the token in byte-unicode symbols, with {@code </w>} if it ends a word
     * @throws IllegalArgumentException if {@code id} is outside the vocabulary
     */
    public String token(int id) {
        checkId(id);
        return idToToken[id];
    }

    /**
     * CLIP's text cleanup alone: {@code whitespace_clean(basic_clean(text)).lower()}.
     *
     * @param text any text
     * @return the cleaned text that CLIP tokenizes (ftfy-fixed, unescaped, whitespace-collapsed, lower case)
     * @throws NullPointerException if {@code text} is null
     */
    public static String cleanText(String text) {
        Objects.requireNonNull(text, "text");
        return TextCleaner.clean(text);
    }

    /**
     * BPE ids of a text, without start/end tokens, untruncated ({@code SimpleTokenizer.encode}).
     *
     * @param text any text; cleaned first as {@link #cleanText} does
     * @return a new array of token ids (empty for a blank text)
     * @throws NullPointerException if {@code text} is null
     */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        String cleaned = TextCleaner.clean(text);
        BytePairEncoder.IntList out = new BytePairEncoder.IntList();
        encoder.encodeWords(cleaned, TextCleaner.split(cleaned), out);
        return out.toArray();
    }

    /**
     * {@link #encode(String)} as a list.
     *
     * @param text any text, non-null
     * @return a new, modifiable list of token ids
     */
    public List<Integer> encodeToList(String text) {
        int[] ids = encode(text);
        List<Integer> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return list;
    }

    /**
     * BPE token strings of a text (no start/end), e.g. {@code [a</w>, photo</w>, of</w>, a</w>, cat</w>]}.
     *
     * @param text any text
     * @return a new list of the token strings of {@link #encode(String)}, in order
     * @throws NullPointerException if {@code text} is null
     */
    public List<String> tokens(String text) {
        int[] ids = encode(text);
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(idToToken[id]);
        }
        return out;
    }

    /**
     * Full tokenization with start and end tokens (no padding, no truncation) and each token's
     * character span in the cleaned text.
     *
     * @param text any text
     * @return the cleaned text with the ids, tokens and spans from {@code <|startoftext|>} to {@code <|endoftext|>}
     * @throws NullPointerException if {@code text} is null
     */
    public Tokenization tokenize(String text) {
        Objects.requireNonNull(text, "text");
        String cleaned = TextCleaner.clean(text);
        List<Integer> ids = new ArrayList<>();
        List<String> toks = new ArrayList<>();
        List<TextSpan> spans = new ArrayList<>();
        ids.add(startId);
        toks.add(idToToken[startId]);
        spans.add(new TextSpan(0, 0));
        for (int[] w : TextCleaner.split(cleaned)) {
            String word = cleaned.substring(w[0], w[1]);
            int[] wordIds = encoder.encodeWord(word);
            // char index of each UTF-8 byte of the word
            byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
            int[] charOfByte = new int[bytes.length + 1];
            int b = 0;
            for (int c = 0; c < word.length(); ) {
                int cp = word.codePointAt(c);
                int nb = utf8Length(cp);
                for (int k = 0; k < nb && b < bytes.length; k++) {
                    charOfByte[b++] = c;
                }
                c += Character.charCount(cp);
            }
            charOfByte[bytes.length] = word.length();
            int byteStart = 0;
            for (int id : wordIds) {
                String tok = idToToken[id];
                int nbytes = id == startId || id == endId ? bytes.length
                        : (tok.endsWith(END_OF_WORD) ? tok.length() - END_OF_WORD.length() : tok.length());
                int byteEnd = Math.min(bytes.length, byteStart + nbytes);
                int cs = charOfByte[byteStart];
                int lastChar = byteEnd > byteStart ? charOfByte[byteEnd - 1] : cs;
                int ce = byteEnd > byteStart ? lastChar + Character.charCount(word.codePointAt(lastChar)) : cs;
                ids.add(id);
                toks.add(tok);
                spans.add(new TextSpan(w[0] + cs, w[0] + ce));
                byteStart = byteEnd;
            }
        }
        ids.add(endId);
        toks.add(idToToken[endId]);
        spans.add(new TextSpan(cleaned.length(), cleaned.length()));
        return new Tokenization(cleaned, ids, toks, spans);
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }

    /**
     * Model input ids: start token, the BPE ids truncated so that the end token stays last, the end
     * token, then padding up to {@code maxLength} ({@link Padding#NONE}: no padding). With
     * {@code maxLength = 77} and {@link Padding#END_TOKEN} this equals HF
     * {@code tokenizer(text, padding="max_length", max_length=77, truncation=True).input_ids} as used by
     * Stable Diffusion; with {@link Padding#ZERO} it equals openai {@code clip.tokenize(text, truncate=True)}.
     *
     * @param text      any text
     * @param maxLength total length including start and end tokens, at least 2
     * @param padding   what fills the row after the end token
     * @return a new array of {@code maxLength} ids (with {@link Padding#NONE}: at most {@code maxLength})
     * @throws NullPointerException     if {@code text} or {@code padding} is null
     * @throws IllegalArgumentException if {@code maxLength < 2}
     */
    public long[] inputIds(String text, int maxLength, Padding padding) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(padding, "padding");
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (start + end token), got " + maxLength);
        }
        int[] ids = encode(text);
        int body = Math.min(ids.length, maxLength - 2);
        int length = padding == Padding.NONE ? body + 2 : maxLength;
        long[] out = new long[length];
        out[0] = startId;
        for (int i = 0; i < body; i++) {
            out[i + 1] = ids[i];
        }
        out[body + 1] = endId;
        long pad = padding == Padding.END_TOKEN ? endId : 0;
        for (int i = body + 2; i < length; i++) {
            out[i] = pad;
        }
        return out;
    }

    /**
     * {@link #inputIds(String, int, Padding)} with the context length 77 and this tokenizer's default
     * {@link #padding()} (the end token unless set with {@link #withPadding}).
     *
     * @param text any text, non-null
     * @return a new array of 77 ids
     */
    public long[] inputIds(String text) {
        return inputIds(text, contextLength, padding);
    }

    /**
     * The padding used by {@link #inputIds(String)}: {@link Padding#END_TOKEN} (SD 1.x, SDXL encoder 1) unless
     * this tokenizer was made by {@link #withPadding} (SD 2.x and SDXL encoder 2 pad with 0).
     *
     * @return this tokenizer's default padding
     */
    public Padding padding() {
        return padding;
    }

    /**
     * The same tokenizer with another default padding (e.g. {@code model.family().padding()}); ids are
     * otherwise identical. Returns {@code this} when unchanged.
     *
     * @param padding the default padding for {@link #inputIds(String)}
     * @return a tokenizer sharing this one's vocabulary and merges, with that padding
     * @throws NullPointerException if {@code padding} is null
     */
    public ClipTokenizer withPadding(Padding padding) {
        Objects.requireNonNull(padding, "padding");
        return padding == this.padding ? this : new ClipTokenizer(this, padding);
    }

    /**
     * {@link #inputIds(String, int, Padding)} for each text; shape {@code [texts.size(), maxLength]}
     * (with {@link Padding#NONE} the rows keep their own lengths).
     *
     * @param texts     the texts, none null
     * @param maxLength total row length including start and end tokens, at least 2
     * @param padding   what fills each row after its end token
     * @return a new array with one row of input ids per text, in order
     * @throws NullPointerException     if {@code texts}, one of its elements or {@code padding} is null
     * @throws IllegalArgumentException if {@code maxLength < 2}
     */
    public long[][] batch(List<String> texts, int maxLength, Padding padding) {
        Objects.requireNonNull(texts, "texts");
        long[][] out = new long[texts.size()][];
        for (int i = 0; i < out.length; i++) {
            String t = texts.get(i);
            if (t == null) {
                throw new NullPointerException("texts[" + i + "]");
            }
            out[i] = inputIds(t, maxLength, padding);
        }
        return out;
    }

    /**
     * {@code SimpleTokenizer.decode}: tokens joined, bytes decoded as UTF-8 (invalid bytes → U+FFFD),
     * {@code </w>} → space. Start/end tokens decode to their literal text.
     *
     * @param ids token ids, each in {@code [0, vocabularySize())}
     * @return the decoded text, with a space after each word-final token
     * @throws NullPointerException     if {@code ids} is null
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 6);
        for (int id : ids) {
            checkId(id);
            String tok = idToToken[id];
            for (int i = 0; i < tok.length(); i++) {
                int b = ByteUnicode.byteOf(tok.charAt(i));
                if (b < 0) {
                    throw new IllegalArgumentException("token " + id + " '" + tok + "' has a character that is not "
                            + "a byte symbol: U+" + Integer.toHexString(tok.charAt(i)));
                }
                bytes.write(b);
            }
        }
        return Codecs.decodeUtf8Replace(bytes.toByteArray()).replace(END_OF_WORD, " ");
    }

    /**
     * {@link #decode(int[])} for a list.
     *
     * @param ids token ids, each in {@code [0, vocabularySize())}, none null
     * @return the decoded text
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public String decode(List<Integer> ids) {
        Objects.requireNonNull(ids, "ids");
        return decode(ids.stream().mapToInt(Integer::intValue).toArray());
    }

    private void checkId(int id) {
        if (id < 0 || id >= idToToken.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, "
                    + idToToken.length + ")");
        }
    }

    /**
     * Finds the subject's tokens in a prompt, as ROME/ReFACT do for {@code template.format(subject)}:
     * the prompt up to the subject and up to the end of the subject are tokenized, and the subject is
     * positions {@code [len(prefix ids) + 1, len(prefix + subject ids) + 1)} of the input ids (position 0
     * is the start token).
     *
     * <p>The subject is matched case-insensitively ({@link String#regionMatches(boolean, int, String, int, int)};
     * CLIP lower-cases anyway) at its <em>first</em> occurrence. The result is checked: the prompt's
     * own tokens at those positions must be the subject's tokens, and they must decode to the cleaned
     * subject (ignoring spaces). So a subject that merges with its neighbours into a different token
     * (e.g. "cat" inside "cats" or "bobcat") is rejected rather than mislocated.
     *
     * @param prompt  the full prompt, e.g. "a photo of the president of the united states"
     * @param subject a substring of the prompt (any case)
     * @return the span; {@link SubjectSpan#lastTokenPosition()} is the subject's last token
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if the subject is blank, does not occur in the prompt, merges
     *                                  with neighbouring text, or is cut off by the 77-token truncation
     */
    public SubjectSpan locateSubject(String prompt, String subject) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(subject, "subject");
        String cleanSubject = cleanText(subject);
        if (cleanSubject.isEmpty()) {
            throw new IllegalArgumentException("subject \"" + subject + "\" is empty after CLIP's text cleanup");
        }
        int at = indexOfIgnoreCase(prompt, subject);
        if (at < 0) {
            throw new IllegalArgumentException("subject \"" + subject + "\" does not occur in prompt \"" + prompt + "\"");
        }
        int[] prefix = encode(prompt.substring(0, at));
        int[] upTo = encode(prompt.substring(0, at + subject.length()));
        int[] all = encode(prompt);
        int start = prefix.length + 1;
        int end = upTo.length + 1;
        boolean aligned = end > start && upTo.length <= all.length
                && Arrays.equals(prefix, 0, prefix.length, upTo, 0, prefix.length)
                && Arrays.equals(upTo, 0, upTo.length, all, 0, upTo.length);
        int[] subjectIds = end > start ? Arrays.copyOfRange(upTo, prefix.length, upTo.length) : new int[0];
        if (!aligned || !withoutSpaces(decode(subjectIds)).equals(withoutSpaces(cleanSubject))) {
            throw new IllegalArgumentException("subject \"" + subject + "\" does not form its own tokens in prompt \""
                    + prompt + "\": it merges with the neighbouring text (prompt tokens " + tokenStrings(all)
                    + ", subject tokens " + tokenStrings(subjectIds) + ")");
        }
        if (end > contextLength - 1) {
            throw new IllegalArgumentException("subject \"" + subject + "\" is cut off by the " + contextLength
                    + "-token truncation of prompt \"" + prompt + "\": its tokens end at position " + (end - 1)
                    + ", the last text position is " + (contextLength - 2));
        }
        List<String> toks = new ArrayList<>();
        for (int id : subjectIds) {
            toks.add(idToToken[id]);
        }
        return new SubjectSpan(start, end, toks);
    }

    private List<String> tokenStrings(int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(idToToken[id]);
        }
        return out;
    }

    private static String withoutSpaces(String s) {
        return s.replace(" ", "");
    }

    private static int indexOfIgnoreCase(String text, String sub) {
        for (int i = 0; i + sub.length() <= text.length(); i++) {
            if (text.regionMatches(true, i, sub, 0, sub.length())) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + source + ", " + idToToken.length + " tokens, " + merges.size() + " merges]";
    }
}
