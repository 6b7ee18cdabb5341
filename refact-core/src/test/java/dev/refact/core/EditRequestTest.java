package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

final class EditRequestTest {
    @Test
    void of_subjectDefaultsToPrompt_andTrims() {
        EditRequest r = EditRequest.of("  The President  ", "Donald Trump", "Joe Biden");
        assertEquals("The President", r.subject());
        assertEquals("The President", r.prompt());
    }

    @Test
    void constructor_subjectAbsent_throwsNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EditRequest("a photo of a dog", "cat", "x", "y"));
        assertTrue(e.getMessage().contains("\"cat\"") && e.getMessage().contains("a photo of a dog"), e.getMessage());
    }

    @Test
    void constructor_blankOrSame_throws() {
        assertThrows(IllegalArgumentException.class, () -> EditRequest.of(" ", "a", "b"));
        assertThrows(IllegalArgumentException.class, () -> EditRequest.of("p", "", "b"));
        assertThrows(NullPointerException.class, () -> EditRequest.of("p", "a", null));
        assertThrows(IllegalArgumentException.class, () -> EditRequest.of("p", "Joe", "joe"));
    }

    @Test
    void constructor_subjectMatchIsCaseInsensitive() {
        assertEquals("the President", new EditRequest("The President of France", "the President", "a", "b").subject());
    }
}
