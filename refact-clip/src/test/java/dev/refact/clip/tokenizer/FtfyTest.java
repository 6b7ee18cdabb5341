package dev.refact.clip.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * One case per ftfy fix, with the expected output taken from ftfy 6.3.1's own docstrings
 * (ftfy/__init__.py, ftfy/fixes.py) or derived from its source where noted.
 */
final class FtfyTest {

    @Test
    void fixText_docstringExamples_matchFtfy() {
        assertEquals("✔ No problems", Ftfy.fixText("âœ” No problems"));
        assertEquals("¯\\_(ツ)_/¯", Ftfy.fixText("&macr;\\_(ã\u0083\u0084)_/&macr;"));
        // the docstring shows "..." but that needs NFKC; with the default NFC the ellipsis stays
        assertEquals("Broken text… it's flubberific!", Ftfy.fixText("Broken text&hellip; it&#x2019;s ﬂubberiﬁc!"));
        assertEquals("LOUD NOISES", Ftfy.fixText("ＬＯＵＤ　ＮＯＩＳＥＳ"));
    }

    @Test
    void fixEncoding_utf8ReadAsLatin1OrWindows1252_restored() {
        assertEquals("só", Ftfy.fixEncoding("sÃ³"));
        assertEquals("ó", Ftfy.fixEncoding("Ã³"));
        assertEquals("schön", Ftfy.fixText("schÃ¶n"));
        assertEquals("The Mona Lisa doesn't have eyebrows.", Ftfy.fixText("The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows."));
        assertEquals("&ATILDE;&SUP3;", Ftfy.fixEncoding("&ATILDE;&SUP3;"));
    }

    @Test
    void fixEncoding_restoreByteA0_spaceStandsForNoBreakSpace() {
        assertEquals("voilà le travail", Ftfy.fixText("voilÃ le travail"));
        assertEquals("à la mode", Ftfy.fixText("Ã la mode"));
    }

    @Test
    void fixEncoding_replaceLossySequences_brokenQuoteBecomesReplacementCharacter() {
        // fixes.replace_lossy_sequences docstring: ``â€œ like this â€�`` decodes as ``“ like this �``;
        // uncurl_quotes then straightens the quote
        assertEquals("\" like this \uFFFD", Ftfy.fixText("â€œ like this â€\uFFFD"));
    }

    @Test
    void fixEncoding_cesu8AndJavaNull_decodedByUtf8Variants() {
        // b'\xed\xa0\xbd\xed\xb8\x8d'.decode('utf-8-variants') == '😍' (bad_codecs docstring), here read as Latin-1
        assertEquals("😍", Ftfy.fixEncoding("\u00ED\u00A0\u00BD\u00ED\u00B8\u008D"));
    }

    @Test
    void fixEncoding_plainText_unchanged() {
        assertEquals("naïve café — über", Ftfy.fixText("naïve café — über"));
        assertEquals("Ελλάδα Москва 東京", Ftfy.fixText("Ελλάδα Москва 東京"));
        assertFalse(Badness.isBad("naïve café"));
        assertTrue(Badness.isBad("cafÃ©"));
    }

    @Test
    void fixC1Controls_leftoverC1_readAsWindows1252() {
        assertEquals("What is this … I don't even", Ftfy.fixText("What is this \u0085 I don't even"));
        assertEquals("€", Ftfy.fixC1Controls("\u0080"));
    }

    @Test
    void unescapeHtml_docstringExamples_matchFtfy() {
        assertEquals("<tag>", HtmlEntities.ftfyUnescape("&lt;tag&gt;"));
        assertEquals("\uD835\uDCA5ohn ℋancock", HtmlEntities.ftfyUnescape("&Jscr;ohn &HilbertSpace;ancock"));
        assertEquals("✓", HtmlEntities.ftfyUnescape("&checkmark;"));
        assertEquals("Pérez", HtmlEntities.ftfyUnescape("P&eacute;rez"));
        assertEquals("PÉREZ", HtmlEntities.ftfyUnescape("P&EACUTE;REZ"));
        assertEquals("BUNDESSTRASSE", HtmlEntities.ftfyUnescape("BUNDESSTRA&SZLIG;E"));
        assertEquals("ñ Ñ Ñ &nTILDE;", HtmlEntities.ftfyUnescape("&ntilde; &Ntilde; &NTILDE; &nTILDE;"));
        assertEquals("this&not that", HtmlEntities.ftfyUnescape("this&not that"));
    }

    @Test
    void pythonUnescape_html5Rules_matchCpython() {
        assertEquals("&", HtmlEntities.pythonUnescape("&amp;"));
        assertEquals("&x", HtmlEntities.pythonUnescape("&ampx"));
        assertEquals("¬it;", HtmlEntities.pythonUnescape("&notit;"));
        assertEquals("∉", HtmlEntities.pythonUnescape("&notin;"));
        assertEquals("A", HtmlEntities.pythonUnescape("&#65"));
        assertEquals("A;", HtmlEntities.pythonUnescape("&#x41;;"));
        assertEquals("", HtmlEntities.pythonUnescape("&#1;"));
        assertEquals("\r", HtmlEntities.pythonUnescape("&#13;"));
        assertEquals("&#;&#x;&;", HtmlEntities.pythonUnescape("&#;&#x;&;"));
    }

    @Test
    void fixLatinLigatures_docstring_separated() {
        assertEquals("fluffiest", Ftfy.fixLatinLigatures("ﬂuﬃeﬆ"));
        assertEquals("IJsselmeer", Ftfy.fixLatinLigatures("Ĳsselmeer"));
    }

    @Test
    void fixCharacterWidth_docstring_standardWidths() {
        assertEquals("LOUD NOISES", Ftfy.fixCharacterWidth("ＬＯＵＤ　ＮＯＩＳＥＳ"));
        assertEquals("Uターン", Ftfy.fixCharacterWidth("Ｕﾀｰﾝ"));
    }

    @Test
    void uncurlQuotes_docstring_straightQuotes() {
        assertEquals("\"here's a test\"", Ftfy.uncurlQuotes("\u201chere\u2019s a test\u201d"));
        assertEquals("'", Ftfy.uncurlQuotes("\u02bc"));
    }

    @Test
    void fixLineBreaks_docstring_unixNewlines() {
        assertEquals("This string is made of two things:\n1. Unicode\n2. Spite",
                Ftfy.fixLineBreaks("This string is made of two things:\u20291. Unicode\u20282. Spite"));
        assertEquals("Content-type: text/plain\n\nHi.", Ftfy.fixLineBreaks("Content-type: text/plain\r\n\r\nHi."));
        assertEquals("This is how Microsoft \n trolls Mac users", Ftfy.fixLineBreaks("This is how Microsoft \r trolls Mac users"));
        assertEquals("What is this \n I don't even", Ftfy.fixLineBreaks("What is this \u0085 I don't even"));
    }

    @Test
    void fixSurrogates_docstring_pairsKeptLoneReplaced() {
        assertEquals("💩", Ftfy.fixSurrogates("\uD83D\uDCA9"));
        assertEquals("\uFFFD\uFFFD", Ftfy.fixSurrogates("\uDCA9\uD83D"));
    }

    @Test
    void removeTerminalEscapes_docstring_colorCodesGone() {
        assertEquals("I'm blue, da ba dee da ba doo...",
                Ftfy.removeTerminalEscapes("\u001b[36;44mI'm blue, da ba dee da ba doo...\u001b[0m"));
        // derived from the source: \d is Python's Unicode \d, so Arabic-Indic digits count too
        assertEquals("x", Ftfy.removeTerminalEscapes("\u001b[\u0663mx"));
        assertEquals("\u001b[9", Ftfy.removeTerminalEscapes("\u001b[9"));
    }

    @Test
    void removeControlChars_documentedRanges_removedOthersKept() {
        assertEquals("abc", Ftfy.removeControlChars("a\u0000b\u007Fc"));
        assertEquals("bom", Ftfy.removeControlChars("\uFEFFbom"));
        assertEquals("ab", Ftfy.removeControlChars("a\u206Ab\uFFFC"));
        assertEquals("\t\n\f\r\u200D\u0080", Ftfy.removeControlChars("\t\n\f\r\u200D\u0080"));
    }

    @Test
    void nfc_composesAndReorders_likeUnicodedata() {
        assertEquals("é", PyText.nfc("e\u0301"));
        assertEquals("Å", PyText.nfc("A\u030A"));
        assertEquals("Å", PyText.nfc("\u212B"), "singleton decomposition");
        assertEquals("\uAC01", PyText.nfc("\u1100\u1161\u11A8"), "Hangul LVT");
        assertEquals("ḍ̇", PyText.nfc("d\u0307\u0323"), "canonical reordering then composition");
        assertEquals("\u1E0B\u0323".equals(PyText.nfc("d\u0323\u0307")) ? "" : "ok", "ok");
        assertEquals("\u2002", Ftfy.fixText("\u2000"), "U+2000 has a singleton decomposition to U+2002");
    }

    @Test
    void fixText_lineWithLessThan_keepsEntitiesInThatAndLaterLines() {
        assertEquals("&amp; <\n&amp;", Ftfy.fixText("&amp; <\n&amp;"));
        assertEquals("&\n<b> &amp;", Ftfy.fixText("&amp;\n<b> &amp;"));
    }
}
