package dev.refact.clip.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A port of {@code ftfy.fix_text(text)} of ftfy 6.3.1 with its default {@code TextFixerConfig}
 * (rspeer/python-ftfy @ 74dd0452), which is what openai/CLIP and HF's slow CLIPTokenizer call.
 *
 * <p>The text is fixed in segments (lines, at most 1,000,000 code points); once a segment contains
 * {@code <}, HTML unescaping stays off for it and every later segment. Each segment is fixed until
 * nothing changes, applying in order: {@code unescape_html}, {@code fix_encoding} (with
 * {@code restore_byte_a0}, {@code replace_lossy_sequences}, {@code decode_inconsistent_utf8},
 * {@code fix_c1_controls}), {@code fix_c1_controls}, {@code fix_latin_ligatures},
 * {@code fix_character_width}, {@code uncurl_quotes}, {@code fix_line_breaks}, {@code fix_surrogates},
 * {@code remove_terminal_escapes}, {@code remove_control_chars}, then NFC normalisation.
 */
final class Ftfy {
    private static final int MAX_DECODE_LENGTH = 1_000_000;

    /** utf8_first_of_2 / _3 / _4, utf8_continuation(_strict) of ftfy chardata.UTF8_CLUES. */
    private static final boolean[] FIRST2 = charSet("\u00C2-\u00DF\u0100\u0102\u0106\u010C\u010E\u0110\u0112\u0116"
            + "\u0118\u011A\u011E\u0122\u012A\u0130\u0136\u0139\u013B\u0141\u0143\u0145\u0147\u014C\u0150\u0158"
            + "\u015A\u015E\u0160\u0162\u016A\u016E\u0170\u0172\u0179\u017B\u017D\u0392-\u03A1\u03A3-\u03AF"
            + "\u0412-\u042F");
    private static final boolean[] FIRST3 = charSet("\u00E0-\u00EF\u0101\u0103\u0105\u0107\u010D\u010F\u0113\u0117"
            + "\u0119\u011B\u0123\u012B\u012F\u0137\u013A\u013C\u0155\u017A\u03B0-\u03BF\u0430-\u043F");
    private static final boolean[] FIRST4 = charSet("\u00F0\u00F3\u0111\u011F\u0161\u03C0\u03C3\u0440\u0443");
    private static final String CONTINUATION_COMMON = "\u0080-\u00BF\u00C6\u00D8\u00E6\u00F8\u0104-\u0105"
            + "\u013D-\u013E\u0141-\u0142\u0152-\u0153\u0156-\u0157\u015A-\u015B\u015E-\u0161\u0164-\u0165"
            + "\u0178-\u017E\u0192\u02C6-\u02C7\u02D8\u02DB-\u02DD\u0384-\u0386\u0388-\u038A\u038C\u038E-\u038F"
            + "\u0401-\u040C\u040E-\u040F\u0451-\u045C\u045E-\u045F\u0490-\u0491";
    private static final boolean[] CONTINUATION = charSet(" " + CONTINUATION_COMMON
            + "\u2013-\u2015\u2018-\u201A\u201C-\u201E\u2020-\u2022\u2026\u2030\u2039-\u203A\u20AC\u2116\u2122");
    private static final boolean[] CONTINUATION_STRICT = charSet(CONTINUATION_COMMON
            + "\u2020-\u2021\u2030\u2039-\u203A\u20AC\u2116\u2122");

    /** chardata.ALTERED_UTF8_RE, on bytes seen as ISO-8859-1 chars. */
    private static final Pattern ALTERED_UTF8 = Pattern.compile(
            "[\\xc2\\xc3\\xc5\\xce\\xd0\\xd9][ ]"
            + "|[\\xe2\\xe3][ ][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf]"
            + "|[\\xe0-\\xe3][\\x80-\\x84\\x86-\\x9f\\xa1-\\xbf][ ]"
            + "|[\\xf0][ ][\\x80-\\xbf][\\x80-\\xbf]"
            + "|[\\xf0][\\x80-\\xbf][ ][\\x80-\\xbf]"
            + "|[\\xf0][\\x80-\\xbf][\\x80-\\xbf][ ]");
    /** fixes.A_GRAVE_WORD_RE. */
    private static final Pattern A_GRAVE_WORD = Pattern.compile("\\xc3 (?! |quele|quela|quilo|s )");
    /** chardata.LOSSY_UTF8_RE. */
    private static final Pattern LOSSY_UTF8 = Pattern.compile(
            "[\\xc2-\\xdf][\\x1a]"
            + "|[\\xc2-\\xc3][?]"
            + "|\\xed[\\xa0-\\xaf][\\x1a?]\\xed[\\xb0-\\xbf][\\x1a?\\x80-\\xbf]"
            + "|\\xed[\\xa0-\\xaf][\\x1a?\\x80-\\xbf]\\xed[\\xb0-\\xbf][\\x1a?]"
            + "|[\\xe0-\\xef][\\x1a?][\\x1a\\x80-\\xbf]"
            + "|[\\xe0-\\xef][\\x1a\\x80-\\xbf][\\x1a?]"
            + "|[\\xf0-\\xf4][\\x1a?][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf]"
            + "|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a?][\\x1a\\x80-\\xbf]"
            + "|[\\xf0-\\xf4][\\x1a\\x80-\\xbf][\\x1a\\x80-\\xbf][\\x1a?]"
            + "|\\x1a");
    private static final String REPLACEMENT_UTF8_AS_LATIN1 = "\u00EF\u00BF\u00BD";

    private Ftfy() {
    }

    private static boolean[] charSet(String ranges) {
        boolean[] set = new boolean[0x10000];
        for (int i = 0; i < ranges.length(); i++) {
            char a = ranges.charAt(i);
            char b = a;
            if (i + 2 < ranges.length() && ranges.charAt(i + 1) == '-') {
                b = ranges.charAt(i + 2);
                i += 2;
            }
            for (int c = a; c <= b; c++) {
                set[c] = true;
            }
        }
        return set;
    }

    /** {@code ftfy.fix_text(text)} with the default configuration. */
    static String fixText(String text) {
        StringBuilder out = new StringBuilder(text.length());
        boolean unescapeHtml = true; // "auto"
        int pos = 0;
        int n = text.length();
        while (pos < n) {
            int nl = text.indexOf('\n', pos);
            int br = nl < 0 ? n : nl + 1;
            if (text.codePointCount(pos, br) > MAX_DECODE_LENGTH) {
                br = text.offsetByCodePoints(pos, MAX_DECODE_LENGTH);
            }
            String segment = text.substring(pos, br);
            if (unescapeHtml && segment.indexOf('<') >= 0) {
                unescapeHtml = false; // stays off for the rest of the text, as in ftfy
            }
            out.append(fixSegment(segment, unescapeHtml));
            pos = br;
        }
        return out.toString();
    }

    /** {@code ftfy.fix_and_explain(segment, config)}: apply every fixer until nothing changes. */
    static String fixSegment(String text, boolean unescapeHtml) {
        while (true) {
            String orig = text;
            if (unescapeHtml) {
                text = HtmlEntities.ftfyUnescape(text);
            }
            text = fixEncoding(text);
            text = fixC1Controls(text);
            text = fixLatinLigatures(text);
            text = fixCharacterWidth(text);
            text = uncurlQuotes(text);
            text = fixLineBreaks(text);
            text = fixSurrogates(text);
            text = removeTerminalEscapes(text);
            text = removeControlChars(text);
            text = PyText.nfc(text);
            if (text.equals(orig)) {
                return text;
            }
        }
    }

    /** {@code ftfy.fix_encoding(text)}. */
    static String fixEncoding(String text) {
        while (true) {
            String prev = text;
            text = fixEncodingOneStep(text);
            if (text.equals(prev)) {
                return text;
            }
        }
    }

    private static boolean isAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private static String fixEncodingOneStep(String text) {
        if (text.isEmpty() || isAscii(text) || !Badness.isBad(text)) {
            return text;
        }
        List<Codecs.SingleByte> possible = new ArrayList<>();
        for (Codecs.SingleByte enc : Codecs.CHARMAP_ENCODINGS) {
            if (!enc.canEncode(text)) {
                continue;
            }
            possible.add(enc);
            String bytes = Codecs.LATIN_1.decode(enc.encode(text)); // bytes as ISO-8859-1 chars
            if (!enc.name.equals("macroman") && ALTERED_UTF8.matcher(bytes).find()) {
                bytes = restoreByteA0(bytes);
            }
            if (enc.sloppy) {
                bytes = LOSSY_UTF8.matcher(bytes).replaceAll(REPLACEMENT_UTF8_AS_LATIN1);
            }
            byte[] raw = bytes.getBytes(StandardCharsets.ISO_8859_1);
            try {
                if (bytes.indexOf('\u00ED') >= 0 || bytes.indexOf('\u00C0') >= 0) {
                    return Codecs.decodeUtf8Variants(raw);
                }
                return Codecs.decodeUtf8(raw);
            } catch (Codecs.DecodeException e) {
                // not UTF-8 in this code page; try the next one
            }
        }
        if (hasUtf8Clue(text)) {
            String fixed = decodeInconsistentUtf8(text);
            if (!fixed.equals(text)) {
                return fixed;
            }
        }
        // ftfy tests `"windows-1252" in possible_1byte_encodings`, which never holds (the list holds
        // "sloppy-windows-1252"), so Latin-1 text is always re-read as strict Windows-1252 here.
        if (possible.contains(Codecs.LATIN_1)) {
            StringBuilder sb = new StringBuilder(text.length());
            boolean ok = true;
            for (int i = 0; i < text.length() && ok; i++) {
                int c = Codecs.WINDOWS_1252[text.charAt(i)];
                if (c < 0) {
                    ok = false;
                } else {
                    sb.append((char) c);
                }
            }
            if (ok && !sb.toString().equals(text)) {
                return sb.toString();
            }
        }
        if (hasC1(text)) {
            return fixC1Controls(text);
        }
        return text;
    }

    /** fixes.restore_byte_a0 on bytes seen as ISO-8859-1 chars. */
    private static String restoreByteA0(String bytes) {
        String s = A_GRAVE_WORD.matcher(bytes).replaceAll("\u00C3\u00A0 ");
        Matcher m = ALTERED_UTF8.matcher(s);
        StringBuilder sb = new StringBuilder(s.length());
        int last = 0;
        while (m.find()) {
            sb.append(s, last, m.start()).append(m.group().replace(' ', '\u00A0'));
            last = m.end();
        }
        return sb.append(s, last, s.length()).toString();
    }

    private static boolean hasC1(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80 && c <= 0x9F) {
                return true;
            }
        }
        return false;
    }

    /** fixes.fix_c1_controls: each U+0080..U+009F read as its sloppy-windows-1252 byte. */
    static String fixC1Controls(String text) {
        if (!hasC1(text)) {
            return text;
        }
        char[] cs = text.toCharArray();
        for (int i = 0; i < cs.length; i++) {
            if (cs[i] >= 0x80 && cs[i] <= 0x9F) {
                cs[i] = (char) Codecs.SLOPPY_WINDOWS_1252.decode[cs[i]];
            }
        }
        return new String(cs);
    }

    /**
     * End of a UTF8_DETECTOR_RE match at {@code i}, or -1:
     * {@code (?<![cont_strict])([first2][cont]|[first3][cont]{2}|[first4][cont]{3})+}.
     */
    private static int utf8ClueMatch(String s, int i) {
        if (i > 0 && CONTINUATION_STRICT[s.charAt(i - 1)]) {
            return -1;
        }
        int p = i;
        while (true) {
            int q = -1;
            if (p < s.length()) {
                char c = s.charAt(p);
                if (FIRST2[c] && continuations(s, p + 1, 1)) {
                    q = p + 2;
                } else if (FIRST3[c] && continuations(s, p + 1, 2)) {
                    q = p + 3;
                } else if (FIRST4[c] && continuations(s, p + 1, 3)) {
                    q = p + 4;
                }
            }
            if (q < 0) {
                return p > i ? p : -1;
            }
            p = q;
        }
    }

    private static boolean continuations(String s, int from, int count) {
        if (from + count > s.length()) {
            return false;
        }
        for (int k = 0; k < count; k++) {
            if (!CONTINUATION[s.charAt(from + k)]) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasUtf8Clue(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (utf8ClueMatch(text, i) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** fixes.decode_inconsistent_utf8: fix each mojibake-looking run on its own. */
    static String decodeInconsistentUtf8(String text) {
        int textLen = text.codePointCount(0, text.length());
        StringBuilder sb = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            int end = utf8ClueMatch(text, i);
            if (end < 0) {
                sb.append(text.charAt(i));
                i++;
                continue;
            }
            String sub = text.substring(i, end); // BMP only: length = code points
            if (sub.length() < textLen && Badness.isBad(sub)) {
                sb.append(fixEncoding(sub));
            } else {
                sb.append(sub);
            }
            i = end;
        }
        return sb.toString();
    }

    private static final Map<Integer, String> LIGATURES = Map.ofEntries(
            Map.entry(0x0132, "IJ"), Map.entry(0x0133, "ij"), Map.entry(0x0149, "\u02BCn"),
            Map.entry(0x01F1, "DZ"), Map.entry(0x01F2, "Dz"), Map.entry(0x01F3, "dz"),
            Map.entry(0x01C4, "D\u017D"), Map.entry(0x01C5, "D\u017E"), Map.entry(0x01C6, "d\u017E"),
            Map.entry(0x01C7, "LJ"), Map.entry(0x01C8, "Lj"), Map.entry(0x01C9, "lj"),
            Map.entry(0x01CA, "NJ"), Map.entry(0x01CB, "Nj"), Map.entry(0x01CC, "nj"),
            Map.entry(0xFB00, "ff"), Map.entry(0xFB01, "fi"), Map.entry(0xFB02, "fl"),
            Map.entry(0xFB03, "ffi"), Map.entry(0xFB04, "ffl"), Map.entry(0xFB05, "\u017Ft"),
            Map.entry(0xFB06, "st"));

    private static final String[] LIGATURE_TABLE = bmpTable(LIGATURES);
    private static final String[] WIDTH_TABLE = bmpTable(UnicodeTables.get().width);

    private static String[] bmpTable(Map<Integer, String> map) {
        String[] t = new String[0x10000];
        for (Map.Entry<Integer, String> e : map.entrySet()) {
            t[e.getKey()] = e.getValue(); // all keys are BMP characters
        }
        return t;
    }

    /** fixes.fix_latin_ligatures (chardata.LIGATURES). */
    static String fixLatinLigatures(String text) {
        return translate(text, LIGATURE_TABLE);
    }

    /** fixes.fix_character_width: fullwidth ASCII and U+3000 to ASCII, halfwidth kana to standard. */
    static String fixCharacterWidth(String text) {
        return translate(text, WIDTH_TABLE);
    }

    private static String translate(String text, String[] table) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String r = table[c];
            if (r != null && sb == null) {
                sb = new StringBuilder(text.length() + 8);
                sb.append(text, 0, i);
            }
            if (sb != null) {
                if (r != null) {
                    sb.append(r);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** fixes.uncurl_quotes: U+02BC, U+2018..U+201B → ', U+201C..U+201F → ". */
    static String uncurlQuotes(String text) {
        char[] cs = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            char r = c == '\u02BC' || (c >= '\u2018' && c <= '\u201B') ? '\''
                    : c >= '\u201C' && c <= '\u201F' ? '"' : c;
            if (r != c) {
                if (cs == null) {
                    cs = text.toCharArray();
                }
                cs[i] = r;
            }
        }
        return cs == null ? text : new String(cs);
    }

    /** fixes.fix_line_breaks: CRLF, CR, U+2028, U+2029, U+0085 → LF. */
    static String fixLineBreaks(String text) {
        return text.replace("\r\n", "\n").replace('\r', '\n').replace('\u2028', '\n').replace('\u2029', '\n')
                .replace('\u0085', '\n');
    }

    /** fixes.fix_surrogates: a lone surrogate becomes U+FFFD (valid pairs are one code point in Java). */
    static String fixSurrogates(String text) {
        char[] cs = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
                continue;
            }
            if (Character.isSurrogate(c)) {
                if (cs == null) {
                    cs = text.toCharArray();
                }
                cs[i] = '\uFFFD';
            }
        }
        return cs == null ? text : new String(cs);
    }

    /** fixes.remove_terminal_escapes: {@code \x1b\[((?:\d|;)*)([a-zA-Z])} with Python's Unicode {@code \d}. */
    static String removeTerminalEscapes(String text) {
        int esc = text.indexOf('\u001B');
        if (esc < 0) {
            return text;
        }
        UnicodeTables t = UnicodeTables.get();
        StringBuilder sb = new StringBuilder(text.length());
        sb.append(text, 0, esc);
        int i = esc;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\u001B' && i + 1 < text.length() && text.charAt(i + 1) == '[') {
                int j = i + 2;
                while (j < text.length()) {
                    int cp = text.codePointAt(j);
                    if (cp != ';' && !t.reDigit.contains(cp)) {
                        break;
                    }
                    j += Character.charCount(cp);
                }
                if (j < text.length()) {
                    char f = text.charAt(j);
                    if ((f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z')) {
                        i = j + 1;
                        continue;
                    }
                }
            }
            sb.append(c);
            i++;
        }
        return sb.toString();
    }

    /**
     * fixes.remove_control_chars: deletes U+0000..U+0008, U+000B, U+000E..U+001F, U+007F,
     * U+206A..U+206F, U+FEFF, U+FFF9..U+FFFC.
     */
    static String removeControlChars(String text) {
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean drop = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                    || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
            if (drop && sb == null) {
                sb = new StringBuilder(text.length());
                sb.append(text, 0, i);
            }
            if (sb != null && !drop) {
                sb.append(c);
            }
        }
        return sb == null ? text : sb.toString();
    }
}
