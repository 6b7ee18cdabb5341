package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Goldens from shared/data/clip-tokenizer, vocabulary consistency, padding/truncation, decode, spans. */
final class ClipTokenizerTest {
    private static ClipTokenizer hf;
    private static ClipTokenizer openai;
    private static JsonArray cases;

    @BeforeAll
    static void load() throws IOException {
        hf = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        openai = ClipTokenizer.fromOpenAiBpe(SharedData.resolve("clip-tokenizer/bpe_simple_vocab_16e6.txt.gz"));
        String json = Files.readString(SharedData.resolve("clip-tokenizer/golden_token_ids.json"), StandardCharsets.UTF_8);
        cases = JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("cases");
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsString());
        }
        return out;
    }

    @Test
    void encode_goldenCases_matchReferenceFromBothLoaders() {
        assertEquals(17, cases.size());
        for (ClipTokenizer tok : List.of(hf, openai)) {
            for (JsonElement e : cases) {
                JsonObject c = e.getAsJsonObject();
                String prompt = c.get("prompt").getAsString();
                int[] bpe = ints(c.getAsJsonArray("bpe_ids"));
                assertArrayEquals(bpe, tok.encode(prompt), "bpe_ids of " + prompt);
                assertEquals(strings(c.getAsJsonArray("tokens")), tok.tokens(prompt), "tokens of " + prompt);
                assertEquals(c.get("decoded").getAsString(), tok.decode(bpe), "decoded of " + prompt);
                long[] unpadded = Arrays.stream(ints(c.getAsJsonArray("sd_input_ids_unpadded"))).asLongStream().toArray();
                assertArrayEquals(unpadded, tok.inputIds(prompt, 77, Padding.NONE), "sd ids of " + prompt);
                long[] padded = tok.inputIds(prompt);
                assertEquals(77, padded.length);
                assertArrayEquals(unpadded, Arrays.copyOf(padded, unpadded.length));
                for (int i = unpadded.length; i < 77; i++) {
                    assertEquals(49407, padded[i], "padding of " + prompt);
                }
            }
        }
    }

    @Test
    void vocabulary_bothLoaders_identical49408Entries() {
        assertEquals(49408, hf.vocabularySize());
        assertEquals(49408, openai.vocabularySize());
        assertEquals(hf.vocabulary(), openai.vocabulary());
        assertEquals(new ArrayList<>(hf.vocabulary().keySet()), new ArrayList<>(openai.vocabulary().keySet()));
        assertEquals(48894, hf.merges().size());
        assertEquals(hf.merges(), openai.merges());
        assertEquals(ClipTokenizer.START_TOKEN_ID, hf.startTokenId());
        assertEquals(ClipTokenizer.END_TOKEN_ID, hf.endTokenId());
        assertEquals("<|startoftext|>", hf.token(49406));
        assertEquals("<|endoftext|>", openai.token(49407));
        assertEquals(77, hf.contextLength());
        assertEquals("!", hf.token(0));
        assertEquals("cat</w>", hf.token(2368));
    }

    @Test
    void inputIds_longPrompt_truncatedTo77WithEndLast() {
        String prompt = String.join(" ", java.util.Collections.nCopies(100, "word"));
        int[] all = hf.encode(prompt);
        assertEquals(100, all.length);
        long[] ids = hf.inputIds(prompt);
        assertEquals(77, ids.length);
        assertEquals(49406, ids[0]);
        assertEquals(49407, ids[76]);
        for (int i = 1; i < 76; i++) {
            assertEquals(all[i - 1], ids[i]);
        }
        long[] zero = hf.inputIds(prompt, 77, Padding.ZERO);
        assertArrayEquals(ids, zero);
        long[] none = hf.inputIds(prompt, 77, Padding.NONE);
        assertArrayEquals(ids, none);
        assertEquals(102, hf.tokenize(prompt).size(), "tokenize does not truncate");
    }

    @Test
    void inputIds_paddingModes_fillWithEndZeroOrNothing() {
        assertArrayEquals(new long[] {49406, 320, 2368, 49407, 49407, 49407}, hf.inputIds("a cat", 6, Padding.END_TOKEN));
        assertArrayEquals(new long[] {49406, 320, 2368, 49407, 0, 0}, hf.inputIds("a cat", 6, Padding.ZERO));
        assertArrayEquals(new long[] {49406, 320, 2368, 49407}, hf.inputIds("a cat", 6, Padding.NONE));
        assertArrayEquals(new long[] {49406, 320, 49407}, hf.inputIds("a cat", 3, Padding.NONE));
        assertArrayEquals(new long[] {49406, 49407}, hf.inputIds("a cat", 2, Padding.ZERO));
        assertThrows(IllegalArgumentException.class, () -> hf.inputIds("a cat", 1, Padding.NONE));
    }

    @Test
    void batch_twoTexts_rowsEqualInputIds() {
        long[][] b = hf.batch(List.of("a cat", "a photo of a dog"), 77, Padding.END_TOKEN);
        assertEquals(2, b.length);
        assertArrayEquals(hf.inputIds("a cat"), b[0]);
        assertArrayEquals(hf.inputIds("a photo of a dog"), b[1]);
        long[][] ragged = hf.batch(List.of("a cat", "a photo of a dog"), 77, Padding.NONE);
        assertEquals(4, ragged[0].length);
        assertEquals(7, ragged[1].length);
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> hf.batch(Arrays.asList("a", null), 77, Padding.NONE));
        assertEquals("texts[1]", npe.getMessage());
    }

    @Test
    void emptyPrompt_encode_startAndEndOnly() {
        assertEquals(0, hf.encode("").length);
        assertArrayEquals(new long[] {49406, 49407}, hf.inputIds("", 77, Padding.NONE));
        assertEquals(List.of(49406, 49407), hf.tokenize("").ids());
        assertEquals(List.of(49406, 49407), hf.tokenize(" \t\n ").ids());
    }

    @Test
    void nullArguments_anyMethod_throwNpeWithName() {
        assertEquals("text", assertThrows(NullPointerException.class, () -> hf.encode(null)).getMessage());
        assertEquals("text", assertThrows(NullPointerException.class, () -> hf.tokenize(null)).getMessage());
        assertEquals("text", assertThrows(NullPointerException.class, () -> hf.inputIds(null)).getMessage());
        assertEquals("padding", assertThrows(NullPointerException.class,
                () -> hf.inputIds("x", 77, null)).getMessage());
        assertEquals("ids", assertThrows(NullPointerException.class, () -> hf.decode((int[]) null)).getMessage());
        assertEquals("prompt", assertThrows(NullPointerException.class,
                () -> hf.locateSubject(null, "x")).getMessage());
        assertEquals("subject", assertThrows(NullPointerException.class,
                () -> hf.locateSubject("x", null)).getMessage());
        assertEquals("path", assertThrows(NullPointerException.class, () -> ClipTokenizer.load(null)).getMessage());
    }

    @Test
    void decode_idOutsideVocabulary_throws() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> hf.decode(new int[] {49408}));
        assertEquals("token id 49408 is outside the vocabulary [0, 49408)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> hf.decode(new int[] {-1}));
    }

    @Test
    void decode_splitMultibyteCharacter_usesReplacementCharacter() {
        assertEquals("🐱🔥 ", hf.decode(hf.encode("🐱🔥")));
        // "Ã" is byte 0xC3 alone: an incomplete UTF-8 sequence decodes to one U+FFFD (errors="replace")
        int lead = hf.vocabulary().get("Ã");
        int cont = hf.vocabulary().get("Ł</w>"); // byte 0x9F
        assertEquals("\uFFFD", hf.decode(new int[] {lead}));
        assertEquals("ß ", hf.decode(new int[] {lead, cont}));
        assertEquals("\uFFFD ", hf.decode(new int[] {cont}));
    }

    @Test
    void decode_specialTokens_literalText() {
        assertEquals("<|startoftext|>a cat <|endoftext|>", hf.decode(new int[] {49406, 320, 2368, 49407}));
    }

    @Test
    void encode_specialTokenTextInPrompt_givesSpecialId() {
        assertArrayEquals(new int[] {320, 49407, 2368}, hf.encode("a <|endoftext|> cat"));
        assertArrayEquals(new int[] {49406}, hf.encode("<|STARTOFTEXT|>"));
    }

    @Test
    void tokenize_spans_coverTheirCharactersInCleanedText() {
        Tokenization t = hf.tokenize("  A Photo of   the CATS!  ");
        assertEquals("a photo of the cats!", t.cleanedText());
        assertEquals(List.of("<|startoftext|>", "a</w>", "photo</w>", "of</w>", "the</w>", "cats</w>", "!</w>",
                "<|endoftext|>"), t.tokens());
        List<String> texts = new ArrayList<>();
        for (TextSpan s : t.spans()) {
            texts.add(s.of(t.cleanedText()));
        }
        assertEquals(List.of("", "a", "photo", "of", "the", "cats", "!", ""), texts);
        assertArrayEquals(IntStream.concat(IntStream.of(49406), IntStream.concat(
                Arrays.stream(hf.encode("  A Photo of   the CATS!  ")), IntStream.of(49407))).toArray(), t.idArray());
    }

    @Test
    void tokenize_wordSplitIntoPieces_spansPartitionTheWord() {
        Tokenization t = hf.tokenize("reallylongwordwithoutspaces straße");
        StringBuilder joined = new StringBuilder();
        for (int i = 1; i < t.size() - 1; i++) {
            TextSpan s = t.spans().get(i);
            if (t.tokens().get(i).equals("Ã")) {
                assertEquals("ß", s.of(t.cleanedText())); // first byte of ß
                continue;
            }
            if (t.tokens().get(i).equals("Ł")) {
                assertEquals("ß", s.of(t.cleanedText())); // second byte of ß
                continue;
            }
            joined.append(s.of(t.cleanedText()));
        }
        assertEquals("reallylongwordwithoutspacesstrae", joined.toString());
    }

    @Test
    void cleanText_pythonLowerAndWhitespace_differFromJava() {
        // U+0130 lower-cases to i + U+0307 (Python and Java agree); final sigma follows CPython's rule
        assertEquals("i\u0307stanbul", ClipTokenizer.cleanText("İstanbul"));
        assertEquals("σοφος", ClipTokenizer.cleanText("ΣΟΦΟΣ"));
        // '.' is case-ignorable: the Σ before it is not final, the last one is (CPython: 'σοφοσ.ς')
        assertEquals("σοφοσ.ς", ClipTokenizer.cleanText("ΣΟΦΟΣ.Σ"));
        assertEquals("σοφος. σ", ClipTokenizer.cleanText("ΣΟΦΟΣ. Σ"));
        assertEquals("aς\u0301", ClipTokenizer.cleanText("AΣ\u0301"));
        assertArrayEquals(new int[] {328, 16384, 11231}, hf.encode("İstanbul"));
    }

    @Test
    void encode_pythonWhitespaceSet_collapsesExactlyThoseCharacters() {
        int[] ab = hf.encode("a b");
        // regex-module \s: exactly Unicode White_Space (U+001C..U+001F are not in it, U+200B neither)
        String all = " \t\n\u000B\u000C\r\u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
                + "\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000";
        assertEquals("a b", TextCleaner.collapseWhitespace("a" + all + "b"));
        for (char c : new char[] {'\u001C', '\u001D', '\u001E', '\u001F', '\u200B', '\u180E', '\uFEFF'}) {
            assertEquals("a" + c + "b", TextCleaner.collapseWhitespace("a" + c + "b"));
        }
        // end to end (U+0085 is excluded: ftfy reads a C1 control as Windows-1252, giving '…')
        for (char ws : new char[] {' ', '\t', '\n', '\u000C', '\r', '\u00A0', '\u1680', '\u2000',
            '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200A',
            '\u2028', '\u2029', '\u202F', '\u205F', '\u3000'}) {
            assertArrayEquals(ab, hf.encode("a" + ws + ws + "b"), "U+" + Integer.toHexString(ws));
            assertArrayEquals(ab, hf.encode(ws + "a" + ws + "b" + ws), "U+" + Integer.toHexString(ws));
        }
        // U+200B ZERO WIDTH SPACE is not whitespace: it stays and becomes its own token
        assertArrayEquals(new int[] {320, 9844, 321}, hf.encode("a\u200Bb"));
        assertNotEquals(Arrays.toString(ab), Arrays.toString(hf.encode("a\u200Bb")));
        // U+000B and U+001C..U+001F (whitespace for str.isspace) are removed by ftfy before whitespace cleanup
        assertArrayEquals(hf.encode("ab"), hf.encode("a\u001Cb\u001F"));
        assertArrayEquals(hf.encode("ab"), hf.encode("a\u000Bb"));
        assertTrue(TextCleaner.split("a\u200Bb").size() == 3);
    }

    @Test
    void encode_htmlEntities_unescapedLikeReference() {
        assertArrayEquals(new int[] {261}, hf.encode("&amp;amp;"), "ftfy loops until &amp;amp; is &");
        assertArrayEquals(hf.encode("&"), hf.encode("&amp;amp;amp;"));
        assertEquals("<b>&</b>", ClipTokenizer.cleanText("<b>&amp;</b>"), "ftfy keeps it (line has '<'), html.unescape does not");
        assertEquals("<b>&amp;</b>", Ftfy.fixText("<b>&amp;</b>"));
        assertEquals("this¬ that", ClipTokenizer.cleanText("this&not that"), "html.unescape decodes &not without ';'");
        assertEquals("this&not that", Ftfy.fixText("this&not that"), "ftfy needs the ';'");
        assertEquals("line1 < & line2", ClipTokenizer.cleanText("line1 <\n&amp; line2"));
        assertEquals("line1 <\n&amp; line2", Ftfy.fixText("line1 <\n&amp; line2"), "'<' switches unescaping off for later lines");
        assertEquals("\uFFFD", ClipTokenizer.cleanText("&#0;"));
        assertEquals("€", ClipTokenizer.cleanText("&#128;"), "WHATWG replacement table");
        assertEquals("\uFFFD", ClipTokenizer.cleanText("&#xD800;"));
        assertEquals("\uFFFD", ClipTokenizer.cleanText("&#1114112;"));
        assertEquals("a", ClipTokenizer.cleanText("&#65"));
        assertEquals("&zzz;", ClipTokenizer.cleanText("&ZZZ;"));
    }

    @Test
    void encode_concurrentCallers_sameIdsAsSequential() throws Exception {
        List<String> texts = new ArrayList<>();
        for (JsonElement e : cases) {
            texts.add(e.getAsJsonObject().get("prompt").getAsString());
        }
        List<int[]> expected = new ArrayList<>();
        for (String t : texts) {
            expected.add(openai.encode(t));
        }
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int k = 0; k < 4; k++) {
            Thread th = new Thread(() -> {
                for (int rep = 0; rep < 50; rep++) {
                    for (int i = 0; i < texts.size(); i++) {
                        if (!Arrays.equals(expected.get(i), hf.encode(texts.get(i)))) {
                            errors.add(new AssertionError("mismatch on " + texts.get(i)));
                        }
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(List.of(), errors);
    }
}
