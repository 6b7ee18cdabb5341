package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Seeded random strings: both loaders agree, nothing throws, the API's invariants hold. */
final class FuzzTest {
    private static ClipTokenizer hf;
    private static ClipTokenizer openai;

    @BeforeAll
    static void load() throws IOException {
        hf = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        openai = ClipTokenizer.fromOpenAiBpe(SharedData.resolve("clip-tokenizer/bpe_simple_vocab_16e6.txt.gz"));
    }

    private static final String[] PIECES = {"a ", "photo", " of ", "THE", "Cat", "'s", "'LL", "ſ", "İ", "Σ", "ς", "é",
        "e\u0301", "\u0345", "\u0300", "🐱", "❤️", "👨\u200d👩", "🇺🇸", "\u200b", "\u00a0", "\u3000", "\t", "\r\n", "\n",
        "&amp;", "&lt;", "&#128;", "&notit;", "<", "<|endoftext|>", "<|startoftext|>", "Ã©", "â€™", "Ð¼", "\u001b[1m",
        "\u0000", "\u0085", "\u0091", "\uFEFF", "\uFFFD", "\uD800", "\uDC00", "ＡＢＣ", "ﬁ", "中文", "한국어", "123", "٣",
        "½", "Ⅻ", "𝟘", "\uDB40\uDC41"};

    private static String randomString(Random r) {
        StringBuilder sb = new StringBuilder();
        int n = r.nextInt(40);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(5)) {
                case 0:
                    sb.append(PIECES[r.nextInt(PIECES.length)]);
                    break;
                case 1:
                    sb.append((char) r.nextInt(0x10000)); // may be a lone surrogate
                    break;
                case 2:
                    sb.appendCodePoint(0x10000 + r.nextInt(0x100000));
                    break;
                case 3:
                    sb.append((char) (0x300 + r.nextInt(0x70))); // combining marks
                    break;
                default:
                    sb.append((char) (0x20 + r.nextInt(0x5F)));
            }
        }
        return sb.toString();
    }

    @Test
    void encode_randomUnicode_bothLoadersAgreeAndInvariantsHold() {
        Random r = new Random(20261126);
        for (int k = 0; k < 2000; k++) {
            String s = randomString(r);
            int[] a = hf.encode(s);
            assertArrayEquals(a, openai.encode(s), () -> "loaders differ on " + ReferenceCasesTest.escape(s));
            Tokenization t = hf.tokenize(s);
            assertEquals(a.length + 2, t.size());
            assertArrayEquals(a, Arrays.copyOfRange(t.idArray(), 1, t.size() - 1));
            for (TextSpan span : t.spans()) {
                assertTrue(span.end() <= t.cleanedText().length());
            }
            long[] ids = hf.inputIds(s);
            assertEquals(77, ids.length);
            assertEquals(49406, ids[0]);
            String decoded = hf.decode(a);
            assertEquals(decoded, openai.decode(a));
            // cleaning is idempotent on its own output's words: re-encoding the decoded text never throws
            hf.encode(decoded);
        }
    }

    @Test
    void encode_veryLongTexts_noExceptionAndTruncatedInputIds() {
        Random r = new Random(7);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) {
            sb.append(randomString(r)).append(' ');
        }
        String s = sb.toString();
        int[] ids = hf.encode(s);
        assertTrue(ids.length > 5_000);
        long[] in = hf.inputIds(s);
        assertEquals(77, in.length);
        assertEquals(49407, in[76]);
        String word = "ab".repeat(1000);
        assertEquals(hf.encode(word).length, openai.encode(word).length);
    }

    @Test
    void encode_segmentLongerThanMaxDecodeLength_fixedInPieces() {
        // ftfy fixes at most 1,000,000 code points at once; the split must not break a surrogate pair
        String s = "x".repeat(999_999) + "🐱" + " cafÃ©";
        String fixed = Ftfy.fixText(s);
        assertEquals(s.length() - 1, fixed.length());
        assertTrue(fixed.endsWith("🐱 café"));
        // here the 1,000,000-code-point cut falls between Ã and ©, so that mojibake stays (as in ftfy)
        String cut = "x".repeat(999_998) + "éÃ©";
        assertEquals(cut, Ftfy.fixText(cut));
    }
}
