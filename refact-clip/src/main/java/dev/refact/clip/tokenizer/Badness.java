package dev.refact.clip.tokenizer;

/**
 * ftfy 6.3.1 {@code badness.is_bad}: does the text contain a character sequence that is far more
 * likely to be mojibake than intended text?
 *
 * <p>Each clause of ftfy's {@code BADNESS_RE} is written out below as a check on the characters at
 * one position (the same character categories as {@code MOJIBAKE_CATEGORIES}; {@code \s} and
 * {@code \w} with Python {@code re} semantics). {@code is_bad} only asks whether any clause matches
 * anywhere, so the clause order does not matter.
 */
final class Badness {
    private static final int COMMON = 1;
    private static final int C1 = 1 << 1;
    private static final int BAD = 1 << 2;
    private static final int LAW = 1 << 3;
    private static final int CURRENCY = 1 << 4;
    private static final int START = 1 << 5;
    private static final int END = 1 << 6;
    private static final int NUMERIC = 1 << 7;
    private static final int KAOMOJI = 1 << 8;
    private static final int UPPER_ACC = 1 << 9;
    private static final int LOWER_ACC = 1 << 10;
    private static final int UPPER_COMMON = 1 << 11;
    private static final int LOWER_COMMON = 1 << 12;
    private static final int BOX = 1 << 13;

    private static final short[] MASK = new short[0x10000];

    static {
        // ftfy badness.MOJIBAKE_CATEGORIES, as code point ranges
        set(COMMON, "\u00A0\u00AD\u00B4\u00B7\u2013-\u2015\u2019\u2026");
        set(C1, "\u0080-\u009F");
        set(BAD, "\u00A4\u00A6\u00A8\u00AA\u00AC\u00AF\u00B8\u00BA\u0192\u02C6-\u02C7\u02D8\u02DB-\u02DC"
                + "\u2020-\u2021\u2030\u2310\u25CA\uFFFD");
        set(LAW, "\u00A7\u00B6");
        set(CURRENCY, "\u00A2-\u00A3\u00A5\u20A7\u20AC");
        set(START, "\u00A1\u00A9\u00AB\u00BF\u0384-\u0385\u2018\u201A\u201C\u201E\u2022\u2039\uF8FF");
        set(END, "\u00AE\u00BB\u02DD\u201D\u203A\u2122");
        set(NUMERIC, "\u00B1-\u00B3\u00B5\u00B9\u00BC-\u00BE\u00D7\u00F7\u2044\u2116\u2202\u2206\u220F\u2211"
                + "\u221A\u221E\u2229\u222B\u2248\u2260-\u2261\u2264-\u2265");
        set(KAOMOJI, "\u00B0\u00D2-\u00D6\u00D9-\u00DC\u00F2-\u00F6\u00F8-\u00FC\u014C\u0150\u016A\u0172");
        set(UPPER_ACC, "\u00C0-\u00D1\u00D8\u00DC-\u00DD\u0100\u0102\u0104\u0106\u010C\u010E\u0110\u0112\u0116"
                + "\u0118\u011A\u011E\u0122\u012A\u0130\u0136\u0139\u013B\u013D\u0141\u0143\u0145\u0147\u0152"
                + "\u0158\u015A\u015E\u0160\u0162\u0164\u016E\u0170\u0178-\u0179\u017B\u017D\u0490");
        set(LOWER_ACC, "\u00DF-\u00F1\u00FC\u0101\u0103\u0105\u0107\u010D\u010F\u0111\u0113\u0117\u0119\u011B"
                + "\u011F\u0123\u012B\u012F\u0137\u013A\u013C\u013E\u0142\u0153\u0155\u015B\u015F\u0161\u0165"
                + "\u017A\u017C\u017E\u0491\uFB01-\uFB02");
        set(UPPER_COMMON, "\u00DE\u0386\u0388-\u038A\u038C\u038E-\u038F\u0391-\u03AB\u0401-\u042F");
        set(LOWER_COMMON, "\u03AC-\u03C9\u0430-\u045F");
        set(BOX, "\u2502\u250C\u2510\u2518\u251C\u2524\u252C\u253C\u2550-\u256C\u2580\u2584\u2588\u258C"
                + "\u2590-\u2593");
    }

    private static final int G2 = BAD | LOWER_ACC | UPPER_ACC | BOX | START | END | CURRENCY | NUMERIC | LAW;
    private static final int G4 = LOWER_ACC | UPPER_ACC | BOX | START | END | CURRENCY | NUMERIC | LAW;
    private static final int ARABIC_FOLLOWER = COMMON | CURRENCY | BAD | NUMERIC | START;
    private static final int CYRILLIC_MIDDLE = C1 | BAD | START | END | CURRENCY;

    private Badness() {
    }

    private static void set(int bit, String ranges) {
        for (int i = 0; i < ranges.length(); i++) {
            char a = ranges.charAt(i);
            char b = a;
            if (i + 2 < ranges.length() && ranges.charAt(i + 1) == '-') {
                b = ranges.charAt(i + 2);
                i += 2;
            }
            for (int c = a; c <= b; c++) {
                MASK[c] |= (short) bit;
            }
        }
    }

    private static int m(String s, int i) {
        return i < s.length() ? MASK[s.charAt(i)] : 0;
    }

    private static char ch(String s, int i) {
        return i < s.length() ? s.charAt(i) : '\uFFFF';
    }

    private static boolean any(String set, char c) {
        return c != '\uFFFF' && set.indexOf(c) >= 0;
    }

    private static boolean lowerAz(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean azAZ(char c) {
        return lowerAz(c) || (c >= 'A' && c <= 'Z');
    }

    private static boolean pySpaceAt(String s, int i) {
        return i < s.length() && PyText.isSpace(s.codePointAt(i));
    }

    /** ftfy {@code badness.is_bad(text)}. */
    static boolean isBad(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            // every clause needs a non-ASCII character among its first three
            if (s.charAt(i) < 0x80 && (i + 1 >= n || s.charAt(i + 1) < 0x80) && (i + 2 >= n || s.charAt(i + 2) < 0x80)) {
                continue;
            }
            if (badAt(s, i)) {
                return true;
            }
        }
        return false;
    }

    private static boolean badAt(String s, int i) {
        char c0 = s.charAt(i);
        int m0 = MASK[c0];
        int m1 = m(s, i + 1);
        int m2 = m(s, i + 2);
        char c1 = ch(s, i + 1);
        char c2 = ch(s, i + 2);
        // [c1]
        if ((m0 & C1) != 0) {
            return true;
        }
        if ((m0 & G2) != 0 && (m1 & BAD) != 0) {
            return true;
        }
        // [a-zA-Z] [lower_common upper_common] [bad]
        if (azAZ(c0) && (m1 & (LOWER_COMMON | UPPER_COMMON)) != 0 && (m2 & BAD) != 0) {
            return true;
        }
        if ((m0 & BAD) != 0 && (m1 & G4) != 0) {
            return true;
        }
        if ((m0 & (LOWER_ACC | LOWER_COMMON | BOX | END | CURRENCY | NUMERIC)) != 0 && (m1 & UPPER_ACC) != 0) {
            return true;
        }
        if ((m0 & (BOX | END | CURRENCY | NUMERIC)) != 0 && (m1 & LOWER_ACC) != 0) {
            return true;
        }
        if ((m0 & (LOWER_ACC | BOX | END)) != 0 && (m1 & CURRENCY) != 0) {
            return true;
        }
        // \s [upper_accented] [currency]
        if (PyText.isSpace(c0) && (m1 & UPPER_ACC) != 0 && (m2 & CURRENCY) != 0) {
            return true;
        }
        if ((m0 & (UPPER_ACC | BOX)) != 0 && (m1 & (NUMERIC | LAW)) != 0) {
            return true;
        }
        if ((m0 & (LOWER_ACC | UPPER_ACC | BOX | CURRENCY | END)) != 0 && (m1 & START) != 0
                && (m2 & NUMERIC) != 0) {
            return true;
        }
        if ((m0 & (LOWER_ACC | UPPER_ACC | CURRENCY | NUMERIC | BOX | LAW)) != 0 && (m1 & END) != 0
                && (m2 & START) != 0) {
            return true;
        }
        if ((m0 & (CURRENCY | NUMERIC | BOX)) != 0 && (m1 & START) != 0) {
            return true;
        }
        // [a-z] [upper_accented] [start_punctuation currency]
        if (lowerAz(c0) && (m1 & UPPER_ACC) != 0 && (m2 & (START | CURRENCY)) != 0) {
            return true;
        }
        if ((m0 & BOX) != 0 && (m1 & KAOMOJI) != 0) {
            return true;
        }
        if ((m0 & (LOWER_ACC | UPPER_ACC | CURRENCY | NUMERIC | START | END | LAW)) != 0 && (m1 & BOX) != 0) {
            return true;
        }
        if ((m0 & BOX) != 0 && (m1 & END) != 0) {
            return true;
        }
        // [lower_accented upper_accented] [start_punctuation end_punctuation] \w
        if ((m0 & (LOWER_ACC | UPPER_ACC)) != 0 && (m1 & (START | END)) != 0 && i + 2 < s.length()
                && UnicodeTables.get().reWord.contains(s.codePointAt(i + 2))) {
            return true;
        }
        // [Œœ][^A-Za-z]
        if ((c0 == '\u0152' || c0 == '\u0153') && i + 1 < s.length() && !azAZ(c1)) {
            return true;
        }
        // [upper_accented]°
        if ((m0 & UPPER_ACC) != 0 && c1 == '\u00B0') {
            return true;
        }
        // [ÂÃÎÐ][€œŠš¢£Ÿž\xa0\xad®©°·»{start}{end}–—´]
        if (any("\u00C2\u00C3\u00CE\u00D0", c0)
                && (any("\u20AC\u0153\u0160\u0161\u00A2\u00A3\u0178\u017E\u00A0\u00AD\u00AE\u00A9\u00B0\u00B7\u00BB"
                + "\u2013\u2014\u00B4", c1) || (m1 & (START | END)) != 0)) {
            return true;
        }
        // × [²³]
        if (c0 == '\u00D7' && any("\u00B2\u00B3", c1)) {
            return true;
        }
        // [ØÙ] [common currency bad numeric start ŸŠ®°µ»] [ØÙ] [same]
        if (any("\u00D8\u00D9", c0) && arabicFollower(s, i + 1) && any("\u00D8\u00D9", c2)
                && arabicFollower(s, i + 3)) {
            return true;
        }
        // à[²µ¹¼½¾]
        if (c0 == '\u00E0' && any("\u00B2\u00B5\u00B9\u00BC\u00BD\u00BE", c1)) {
            return true;
        }
        // √[±∂†≠®™´≤≥¥µø]
        if (c0 == '\u221A' && any("\u00B1\u2202\u2020\u2260\u00AE\u2122\u00B4\u2264\u2265\u00A5\u00B5\u00F8", c1)) {
            return true;
        }
        // ≈[°¢]
        if (c0 == '\u2248' && any("\u00B0\u00A2", c1)) {
            return true;
        }
        // ‚Ä[ìîïòôúùû†°¢π]
        if (c0 == '\u201A' && c1 == '\u00C4'
                && any("\u00EC\u00EE\u00EF\u00F2\u00F4\u00FA\u00F9\u00FB\u2020\u00B0\u00A2\u03C0", c2)) {
            return true;
        }
        // ‚[âó][àä°ê]
        if (c0 == '\u201A' && any("\u00E2\u00F3", c1) && any("\u00E0\u00E4\u00B0\u00EA", c2)) {
            return true;
        }
        // вЂ
        if (c0 == '\u0432' && c1 == '\u0402') {
            return true;
        }
        // [ВГРС][c1 bad start end currency °µ][ВГРС]
        if (any("\u0412\u0413\u0420\u0421", c0) && ((m1 & CYRILLIC_MIDDLE) != 0 || any("\u00B0\u00B5", c1))
                && any("\u0412\u0413\u0420\u0421", c2)) {
            return true;
        }
        // ГўВЂВ.[A-Za-z ]
        if (s.startsWith("\u0413\u045E\u0412\u0402\u0412", i) && i + 5 < s.length()) {
            int dot = s.codePointAt(i + 5);
            int after = i + 5 + Character.charCount(dot);
            if (dot != '\n' && after < s.length() && (azAZ(s.charAt(after)) || s.charAt(after) == ' ')) {
                return true;
            }
        }
        // Ã[\xa0¡]
        if (c0 == '\u00C3' && any("\u00A0\u00A1", c1)) {
            return true;
        }
        // [a-z]\s?[ÃÂ][ ]
        if (lowerAz(c0)) {
            if (any("\u00C3\u00C2", c1) && c2 == ' ') {
                return true;
            }
            if (pySpaceAt(s, i + 1) && any("\u00C3\u00C2", c2) && ch(s, i + 3) == ' ') {
                return true;
            }
        }
        // ^[ÃÂ][ ]
        if (i == 0 && any("\u00C3\u00C2", c0) && c1 == ' ') {
            return true;
        }
        // [a-z.,?!{end}] Â [ {start}{end}]
        if ((lowerAz(c0) || any(".,?!", c0) || (m0 & END) != 0) && c1 == '\u00C2'
                && (c2 == ' ' || (m2 & (START | END)) != 0)) {
            return true;
        }
        // β€[™\xa0Ά\xad®°]
        if (c0 == '\u03B2' && c1 == '\u20AC' && any("\u2122\u00A0\u0386\u00AD\u00AE\u00B0", c2)) {
            return true;
        }
        // [ΒΓΞΟ][c1 bad start end currency °][ΒΓΞΟ]
        if (any("\u0392\u0393\u039E\u039F", c0) && ((m1 & CYRILLIC_MIDDLE) != 0 || c1 == '\u00B0')
                && any("\u0392\u0393\u039E\u039F", c2)) {
            return true;
        }
        // ā€
        return c0 == '\u0101' && c1 == '\u20AC';
    }

    private static boolean arabicFollower(String s, int i) {
        if (i >= s.length()) {
            return false;
        }
        char c = s.charAt(i);
        return (MASK[c] & ARABIC_FOLLOWER) != 0 || any("\u0178\u0160\u00AE\u00B0\u00B5\u00BB", c);
    }
}
