package dev.refact.clip.tokenizer;

import java.util.Arrays;

/**
 * Python {@code str} semantics that Java does differently: {@code lower()}, {@code strip()},
 * {@code isspace()} and {@code unicodedata.normalize("NFC", s)}, all driven by the reference's
 * Unicode 14.0 data ({@link UnicodeTables}).
 *
 * <p>Why not {@code String.toLowerCase(Locale.ROOT)}: Java decides the final sigma with a word
 * break iterator and uses the JVM's Unicode version; CPython checks "cased, then case-ignorables,
 * then Σ, not followed by case-ignorables and a cased letter". Why not {@link java.text.Normalizer}:
 * it uses the JVM's Unicode version (13 on Java 17), so combining marks added later are reordered
 * differently.
 */
final class PyText {
    private static final int SIGMA = 0x3A3;
    private static final int S_BASE = 0xAC00;
    private static final int L_BASE = 0x1100;
    private static final int V_BASE = 0x1161;
    private static final int T_BASE = 0x11A7;
    private static final int L_COUNT = 19;
    private static final int V_COUNT = 21;
    private static final int T_COUNT = 28;
    private static final int N_COUNT = V_COUNT * T_COUNT;
    private static final int S_COUNT = L_COUNT * N_COUNT;

    private PyText() {
    }

    /** Python {@code str.isspace()} for one code point. */
    static boolean isSpace(int cp) {
        return UnicodeTables.get().pySpace.contains(cp);
    }

    /** Python {@code s.strip()} (whitespace = {@code str.isspace()}). */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end) {
            int cp = s.codePointAt(start);
            if (!isSpace(cp)) {
                break;
            }
            start += Character.charCount(cp);
        }
        while (end > start) {
            int cp = s.codePointBefore(end);
            if (!isSpace(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(start, end);
    }

    /** Python {@code s.lower()}: full lower-case mappings plus CPython's final-sigma rule. */
    static String lower(String s) {
        UnicodeTables t = UnicodeTables.get();
        StringBuilder out = null;
        int n = s.length();
        for (int i = 0; i < n; ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            int one;
            int[] many = null;
            if (cp == SIGMA) {
                one = finalSigma(s, i, i + len) ? 0x3C2 : 0x3C3;
            } else if (cp < 0x10000) {
                int m = t.lowerBmp[cp];
                if (m == 0) {
                    one = cp;
                } else if (m > 0) {
                    one = m;
                } else {
                    one = -1;
                    many = t.lower.get(cp);
                }
            } else {
                many = t.lower.get(cp);
                one = many == null ? cp : -1;
                if (many != null && many.length == 1) {
                    one = many[0];
                    many = null;
                }
            }
            if (out == null && (many != null || one != cp)) {
                out = new StringBuilder(n + 8);
                out.append(s, 0, i);
            }
            if (out != null) {
                if (many != null) {
                    for (int c : many) {
                        out.appendCodePoint(c);
                    }
                } else {
                    out.appendCodePoint(one);
                }
            }
            i += len;
        }
        return out == null ? s : out.toString();
    }

    /** CPython's handle_capital_sigma: cased (case-ignorable)* Σ !((case-ignorable)* cased). */
    private static boolean finalSigma(String s, int start, int end) {
        UnicodeTables t = UnicodeTables.get();
        int j = start;
        int c = -1;
        while (j > 0) {
            c = s.codePointBefore(j);
            if (!t.caseIgnorable.contains(c)) {
                break;
            }
            j -= Character.charCount(c);
            c = -1;
        }
        if (c < 0 || !t.casedNotIgnorable.contains(c)) {
            return false;
        }
        j = end;
        while (j < s.length()) {
            c = s.codePointAt(j);
            if (!t.caseIgnorable.contains(c)) {
                return !t.casedNotIgnorable.contains(c);
            }
            j += Character.charCount(c);
        }
        return true;
    }

    /** Canonical combining class (Unicode 14.0). */
    static int combiningClass(int cp) {
        UnicodeTables t = UnicodeTables.get();
        if (cp < 0x10000) {
            return t.combiningClassBmp[cp] & 0xFF;
        }
        Integer c = t.combiningClass.get(cp);
        return c == null ? 0 : c;
    }

    /**
     * {@code unicodedata.normalize("NFC", s)} with the Unicode 14.0 tables.
     *
     * <p>The text is cut before every "inert" character (combining class 0, no canonical
     * decomposition other than a Hangul syllable's, never the second half of a composition): nothing
     * on one side of such a character can reorder or compose with the other side, so each piece is
     * normalised on its own, and a piece that is a single inert character is copied unchanged.
     */
    static String nfc(String s) {
        int n = s.length();
        StringBuilder out = null;
        int copied = 0;
        int i = 0;
        while (i < n) {
            int cp = s.codePointAt(i);
            int j = i + Character.charCount(cp);
            if (isInert(cp) && (j >= n || isInert(s.codePointAt(j)))) {
                i = j;
                continue;
            }
            while (j < n) {
                int c = s.codePointAt(j);
                if (isInert(c)) {
                    break;
                }
                j += Character.charCount(c);
            }
            String piece = nfcPiece(s, i, j);
            if (out == null) {
                if (piece.length() == j - i && s.regionMatches(i, piece, 0, piece.length())) {
                    i = j;
                    continue; // already normalised
                }
                out = new StringBuilder(n + 8);
            }
            out.append(s, copied, i).append(piece);
            copied = j;
            i = j;
        }
        if (out == null) {
            return s;
        }
        return out.append(s, copied, n).toString();
    }

    private static boolean isInert(int cp) {
        if (cp < 0x300) {
            return true;
        }
        UnicodeTables t = UnicodeTables.get();
        if (cp < 0x10000) {
            return t.nfcInertBmp[cp];
        }
        return combiningClass(cp) == 0 && !t.canonicalDecomposition.containsKey(cp)
                && !t.compositionSeconds.contains(cp);
    }

    private static String nfcPiece(String s, int from, int to) {
        int[] buf = new int[(to - from) * 4 + 8];
        int n = 0;
        for (int i = from; i < to; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (n + 32 > buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2 + 32);
            }
            n = decompose(cp, buf, n);
        }
        reorder(buf, n);
        n = compose(buf, n);
        return new String(buf, 0, n);
    }

    private static int decompose(int cp, int[] buf, int n) {
        if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
            int si = cp - S_BASE;
            buf[n++] = L_BASE + si / N_COUNT;
            buf[n++] = V_BASE + (si % N_COUNT) / T_COUNT;
            int ti = si % T_COUNT;
            if (ti != 0) {
                buf[n++] = T_BASE + ti;
            }
            return n;
        }
        int[] d = UnicodeTables.get().canonicalDecomposition.get(cp);
        if (d == null) {
            buf[n++] = cp;
            return n;
        }
        for (int c : d) {
            n = decompose(c, buf, n);
        }
        return n;
    }

    /** Canonical ordering: stable sort of each run of non-starters by combining class. */
    private static void reorder(int[] buf, int n) {
        for (int i = 1; i < n; i++) {
            int cc = combiningClass(buf[i]);
            if (cc == 0) {
                continue;
            }
            int j = i;
            int cp = buf[i];
            while (j > 0) {
                int prev = combiningClass(buf[j - 1]);
                if (prev <= cc) {
                    break;
                }
                buf[j] = buf[j - 1];
                j--;
            }
            buf[j] = cp;
        }
    }

    private static int compose(int[] buf, int n) {
        if (n == 0) {
            return 0;
        }
        int starterPos = 0;
        int starter = buf[0];
        int lastClass = combiningClass(starter);
        if (lastClass != 0) {
            lastClass = 256; // a leading non-starter blocks everything after it
        }
        int out = 1;
        for (int i = 1; i < n; i++) {
            int ch = buf[i];
            int chClass = combiningClass(ch);
            int composite = composePair(starter, ch);
            if (composite >= 0 && (lastClass < chClass || lastClass == 0)) {
                buf[starterPos] = composite;
                starter = composite;
                continue;
            }
            if (chClass == 0) {
                starterPos = out;
                starter = ch;
            }
            lastClass = chClass;
            buf[out++] = ch;
        }
        return out;
    }

    private static int composePair(int a, int b) {
        if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT) {
            return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
        }
        if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0
                && b > T_BASE && b < T_BASE + T_COUNT) {
            return a + (b - T_BASE);
        }
        Integer c = UnicodeTables.get().composition.get(UnicodeTables.pairKey(a, b));
        return c == null ? -1 : c;
    }
}
