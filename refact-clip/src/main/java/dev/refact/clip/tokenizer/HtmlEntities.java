package dev.refact.clip.tokenizer;

/**
 * HTML character references the way the reference decodes them.
 *
 * <p>{@link #pythonUnescape} is CPython 3.11's {@code html.unescape} (HTML5 rules: named references
 * with or without ';', longest-prefix matching of legacy names, numeric references with the
 * WHATWG replacement table); CLIP applies it twice after ftfy. {@link #ftfyUnescape} is ftfy's
 * more careful {@code fixes.unescape_html}: only {@code &name;} / {@code &#...;} forms of at most
 * 24 ASCII letters/digits, plus ftfy's all-caps names such as {@code &EACUTE;}.
 */
final class HtmlEntities {
    private static final int MAX_NAME = 32;
    private static final int MAX_FTFY_NAME = 24;

    private HtmlEntities() {
    }

    /** CPython {@code html.unescape(s)}. */
    static String pythonUnescape(String s) {
        int amp = s.indexOf('&');
        if (amp < 0) {
            return s;
        }
        UnicodeTables t = UnicodeTables.get();
        StringBuilder out = new StringBuilder(s.length());
        out.append(s, 0, amp);
        int i = amp;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c != '&') {
                out.append(c);
                i++;
                continue;
            }
            int end = matchCharref(s, i);
            if (end < 0) {
                out.append('&');
                i++;
                continue;
            }
            out.append(replaceCharref(t, s.substring(i + 1, end)));
            i = end;
        }
        return out.toString();
    }

    /**
     * End (exclusive) of {@code &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)} at
     * {@code i}, or -1.
     */
    private static int matchCharref(String s, int i) {
        int n = s.length();
        int j = i + 1;
        if (j >= n) {
            return -1;
        }
        if (s.charAt(j) == '#') {
            j++;
            if (j < n && isDigit(s.charAt(j))) {
                while (j < n && isDigit(s.charAt(j))) {
                    j++;
                }
            } else if (j + 1 < n && (s.charAt(j) == 'x' || s.charAt(j) == 'X') && isHex(s.charAt(j + 1))) {
                j++;
                while (j < n && isHex(s.charAt(j))) {
                    j++;
                }
            } else {
                return -1;
            }
            if (j < n && s.charAt(j) == ';') {
                j++;
            }
            return j;
        }
        int count = 0;
        while (j < n && count < MAX_NAME) {
            int cp = s.codePointAt(j);
            if (cp == '\t' || cp == '\n' || cp == '\f' || cp == ' ' || cp == '<' || cp == '&' || cp == '#'
                    || cp == ';') {
                break;
            }
            j += Character.charCount(cp);
            count++;
        }
        if (count == 0) {
            return -1;
        }
        if (j < n && s.charAt(j) == ';') {
            j++;
        }
        return j;
    }

    /** {@code html._replace_charref} for the text after '&'. */
    private static String replaceCharref(UnicodeTables t, String ref) {
        if (ref.charAt(0) == '#') {
            boolean hex = ref.charAt(1) == 'x' || ref.charAt(1) == 'X';
            String digits = ref.substring(hex ? 2 : 1);
            if (digits.endsWith(";")) {
                digits = digits.substring(0, digits.length() - 1);
            }
            long num = parseCapped(digits, hex ? 16 : 10);
            String inv = t.htmlInvalidCharrefs.get((int) Math.min(num, Integer.MAX_VALUE));
            if (num <= Integer.MAX_VALUE && inv != null) {
                return inv;
            }
            if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
                return "\uFFFD";
            }
            if (t.htmlInvalidCodepoints.contains((int) num)) {
                return "";
            }
            return new String(Character.toChars((int) num));
        }
        String hit = t.html5.get(ref);
        if (hit != null) {
            return hit;
        }
        // longest matching prefix of at least 2 code points (names are ASCII, so chars = code points)
        int cps = ref.codePointCount(0, ref.length());
        for (int x = cps - 1; x > 1; x--) {
            int cut = ref.offsetByCodePoints(0, x);
            String v = t.html5.get(ref.substring(0, cut));
            if (v != null) {
                return v + ref.substring(cut);
            }
        }
        return "&" + ref;
    }

    /**
     * Parses digits, saturating above U+10FFFF. (CPython 3.11 raises ValueError for decimal
     * references longer than 4300 digits; here they decode like shorter ones.)
     */
    private static long parseCapped(String digits, int radix) {
        long v = 0;
        for (int k = 0; k < digits.length(); k++) {
            v = v * radix + Character.digit(digits.charAt(k), radix);
            if (v > 0x10FFFF) {
                return 0x110000;
            }
        }
        return v;
    }

    /** ftfy {@code fixes.unescape_html(text)}. */
    static String ftfyUnescape(String s) {
        int amp = s.indexOf('&');
        if (amp < 0) {
            return s;
        }
        UnicodeTables t = UnicodeTables.get();
        StringBuilder out = new StringBuilder(s.length());
        out.append(s, 0, amp);
        int i = amp;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c != '&') {
                out.append(c);
                i++;
                continue;
            }
            // &#?[0-9A-Za-z]{1,24};
            int j = i + 1;
            boolean numeric = j < n && s.charAt(j) == '#';
            if (numeric) {
                j++;
            }
            int start = j;
            while (j < n && j - start < MAX_FTFY_NAME && isAsciiAlnum(s.charAt(j))) {
                j++;
            }
            if (j == start || j >= n || s.charAt(j) != ';') {
                out.append('&');
                i++;
                continue;
            }
            j++;
            String match = s.substring(i, j);
            String name = match.substring(1);
            String rep;
            if (!numeric && t.html5.containsKey(name)) {
                rep = t.html5.get(name);
            } else if (!numeric && t.ftfyUppercaseEntities.containsKey(name)) {
                rep = t.ftfyUppercaseEntities.get(name);
            } else if (numeric) {
                String u = pythonUnescape(match);
                rep = u.indexOf(';') >= 0 ? match : u;
            } else {
                rep = match;
            }
            out.append(rep);
            i = j;
        }
        return out.toString();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHex(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isAsciiAlnum(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
