package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link ClipTokenizer#locateSubject} on ReFACT's templates and edge cases. */
final class SubjectLocationTest {
    /** The nine prompt templates of ReFACT's evaluation. */
    static final List<String> TEMPLATES = List.of(
            "{} in a realistic style portrait image",
            "{}, a portrait",
            "realistic painting of {}",
            "a current image of {}",
            "{}, news image",
            "a beautiful photograph of {}",
            "realistic drawing of {}",
            "{}, realistic portrait",
            "{} in a photo");
    private static final String SUBJECT = "the president of the united states";
    private static ClipTokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        tok = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
    }

    @Test
    void locateSubject_refactTemplates_lastPositionIsStates() {
        for (String template : TEMPLATES) {
            String prompt = template.replace("{}", SUBJECT);
            SubjectSpan span = tok.locateSubject(prompt, SUBJECT);
            Tokenization t = tok.tokenize(prompt);
            assertEquals("states</w>", t.tokens().get(span.lastTokenPosition()), prompt);
            assertEquals("the</w>", t.tokens().get(span.start()), prompt);
            assertEquals(6, span.length(), prompt);
            assertEquals(List.of("the</w>", "president</w>", "of</w>", "the</w>", "united</w>", "states</w>"),
                    span.tokens());
            int prefixWords = template.startsWith("{}") ? 0 : tok.encode(template.substring(0, template.indexOf("{}"))).length;
            assertEquals(prefixWords + 1, span.start(), prompt);
            long[] ids = tok.inputIds(prompt);
            assertEquals(tok.vocabulary().get("states</w>").longValue(), ids[span.lastTokenPosition()], prompt);
        }
    }

    @Test
    void locateSubject_capitalisedPrompt_matchesCaseInsensitively() {
        SubjectSpan span = tok.locateSubject("The President of the United States, a portrait", SUBJECT);
        assertEquals(1, span.start());
        assertEquals(6, span.lastTokenPosition());
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6}, span.positions());
    }

    @Test
    void locateSubject_absentSubject_throwsWithMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.locateSubject("a photo of a dog", "cat"));
        assertEquals("subject \"cat\" does not occur in prompt \"a photo of a dog\"", e.getMessage());
    }

    @Test
    void locateSubject_subjectTwice_usesFirstOccurrence() {
        SubjectSpan span = tok.locateSubject("a cat next to a cat", "cat");
        assertEquals(2, span.start());
        assertEquals(2, span.lastTokenPosition());
    }

    @Test
    void locateSubject_subjectInsideLongerWord_throws() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.locateSubject("a photo of cats", "cat"));
        assertTrue(e.getMessage().startsWith("subject \"cat\" does not form its own tokens in prompt \"a photo of cats\""),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tok.locateSubject("a bobcat", "cat"));
    }

    @Test
    void locateSubject_followedByPunctuationOrApostrophe_works() {
        SubjectSpan a = tok.locateSubject("Donald Trump's portrait", "Donald Trump");
        assertEquals(List.of("donald</w>", "trump</w>"), a.tokens());
        assertEquals(2, a.lastTokenPosition());
        SubjectSpan b = tok.locateSubject("Paris, France", "Paris");
        assertEquals(1, b.lastTokenPosition());
    }

    @Test
    void locateSubject_cutOffByTruncation_throws() {
        String filler = String.join(" ", Collections.nCopies(74, "word"));
        SubjectSpan ok = tok.locateSubject(filler + " cat", "cat");
        assertEquals(75, ok.lastTokenPosition());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tok.locateSubject(filler + " big cat", "big cat"));
        assertTrue(e.getMessage().contains("is cut off by the 77-token truncation"), e.getMessage());
    }

    @Test
    void locateSubject_blankSubject_throws() {
        assertThrows(IllegalArgumentException.class, () -> tok.locateSubject("a cat", " "));
        assertThrows(IllegalArgumentException.class, () -> tok.locateSubject("a cat", ""));
    }

    @Test
    void locateSubject_multiTokenWord_spansAllPieces() {
        SubjectSpan span = tok.locateSubject("a photo of reallylongwordwithoutspaces", "reallylongwordwithoutspaces");
        Tokenization t = tok.tokenize("a photo of reallylongwordwithoutspaces");
        assertEquals(t.size() - 2, span.lastTokenPosition());
        assertTrue(span.length() > 1);
    }
}
