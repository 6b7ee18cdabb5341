package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The openai vocabulary shipped in refact-clip tokenizes exactly like SD's vocab.json + merges.txt. */
final class BundledTokenizerTest {
    @Test
    void bundled_goldenCases_identicalToVocabJsonAndMerges() throws IOException {
        ClipTokenizer hf = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        ClipTokenizer bundled = ClipTokenizer.bundled();
        assertEquals(hf.vocabularySize(), bundled.vocabularySize());
        String json = Files.readString(SharedData.resolve("clip-tokenizer/golden_token_ids.json"), StandardCharsets.UTF_8);
        int n = 0;
        for (JsonElement e : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("cases")) {
            String prompt = e.getAsJsonObject().get("prompt").getAsString();
            assertArrayEquals(hf.inputIds(prompt), bundled.inputIds(prompt), prompt);
            assertArrayEquals(hf.inputIds(prompt, 77, Padding.ZERO), bundled.inputIds(prompt, 77, Padding.ZERO), prompt);
            assertEquals(hf.tokens(prompt), bundled.tokens(prompt), prompt);
            n++;
        }
        assertEquals(17, n);
    }

    @Test
    void bundled_resourceIsOpenaisFileByteForByte_withLicence() throws Exception {
        byte[] shipped;
        try (InputStream in = ClipTokenizer.class.getResourceAsStream(ClipTokenizer.BUNDLED_RESOURCE)) {
            assertNotNull(in);
            shipped = in.readAllBytes();
        }
        assertEquals("924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(shipped)));
        try (InputStream lic = ClipTokenizer.class.getResourceAsStream("bpe_simple_vocab_16e6.LICENSE.txt")) {
            assertNotNull(lic, "licence notice shipped beside the vocabulary");
            String text = new String(lic.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains("MIT License") && text.contains("Copyright (c) 2021 OpenAI"), text);
        }
        assertSame(ClipTokenizer.bundled(), ClipTokenizer.bundled(), "built once");
    }

    @Test
    void withPadding_zero_padsWithZeroAfterEndToken_andKeepsIds() {
        ClipTokenizer zero = ClipTokenizer.bundled().withPadding(Padding.ZERO);
        long[] ids = zero.inputIds("a photo of a cat");
        assertEquals(Padding.ZERO, zero.padding());
        assertEquals(Padding.END_TOKEN, ClipTokenizer.bundled().padding());
        assertArrayEquals(new long[] {49406, 320, 1125, 539, 320, 2368, 49407, 0}, java.util.Arrays.copyOf(ids, 8));
        assertEquals(0, ids[76]);
        assertEquals(49407, ClipTokenizer.bundled().inputIds("a photo of a cat")[76]);
    }
}
