package dev.refact.clip.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte codecs ftfy uses to undo mojibake: ten single-byte code pages (Python's decode tables,
 * with ftfy's "sloppy" hole filling) and two UTF-8 decoders (CPython's strict one and ftfy's
 * {@code utf-8-variants}, which also accepts CESU-8 surrogate pairs and Java's {@code C0 80} null).
 */
final class Codecs {
    /** ftfy {@code chardata.CHARMAP_ENCODINGS}, in the order they are tried. */
    static final List<SingleByte> CHARMAP_ENCODINGS;

    static {
        List<SingleByte> list = new ArrayList<>();
        for (String name : new String[] {"latin-1", "sloppy-windows-1252", "sloppy-windows-1251",
            "sloppy-windows-1250", "sloppy-windows-1253", "sloppy-windows-1254", "sloppy-windows-1257",
            "iso-8859-2", "macroman", "cp437"}) {
            list.add(new SingleByte(name));
        }
        CHARMAP_ENCODINGS = List.copyOf(list);
    }

    static final SingleByte LATIN_1 = CHARMAP_ENCODINGS.get(0);
    static final SingleByte SLOPPY_WINDOWS_1252 = CHARMAP_ENCODINGS.get(1);
    /** Python's strict {@code windows-1252} (five undefined bytes). */
    static final int[] WINDOWS_1252 = UnicodeTables.get().codepages.get("windows-1252");

    private Codecs() {
    }

    /** A single-byte code page; sloppy ones map undefined bytes to the Latin-1 character and 0x1A to U+FFFD. */
    static final class SingleByte {
        final String name;
        final boolean sloppy;
        final int[] decode = new int[256];
        private final Map<Integer, Integer> encode = new HashMap<>();
        /** chardata.ENCODING_REGEXES: [\x00-\x19\x1b-\x7f] plus the decodings of 0x80..0xFF and 0x1A. */
        private final boolean[] possible = new boolean[0x10000];

        SingleByte(String name) {
            this.name = name;
            this.sloppy = name.startsWith("sloppy-");
            int[] base = UnicodeTables.get().codepages.get(sloppy ? name.substring("sloppy-".length()) : name);
            if (base == null) {
                throw new IllegalStateException("no code page table for " + name);
            }
            for (int b = 0; b < 256; b++) {
                int c = base[b];
                if (c < 0) {
                    if (!sloppy) {
                        throw new IllegalStateException(name + " has an undefined byte " + b);
                    }
                    c = b;
                }
                decode[b] = c;
            }
            if (sloppy) {
                decode[0x1A] = 0xFFFD;
            }
            for (int b = 0; b < 256; b++) {
                if (encode.putIfAbsent(decode[b], b) != null) {
                    throw new IllegalStateException(name + " decodes two bytes to U+" + Integer.toHexString(decode[b]));
                }
            }
            for (int c = 0; c < 0x80; c++) {
                possible[c] = c != 0x1A;
            }
            for (int b = 0x80; b < 0x100; b++) {
                possible[decode[b]] = true;
            }
            possible[decode[0x1A]] = true;
        }

        /** chardata.possible_encoding(text, name). */
        boolean canEncode(String text) {
            for (int i = 0; i < text.length(); i++) {
                if (!possible[text.charAt(i)]) {
                    return false;
                }
            }
            return true;
        }

        /** text.encode(name); only call after {@link #canEncode}. */
        byte[] encode(String text) {
            byte[] out = new byte[text.length()];
            for (int i = 0; i < out.length; i++) {
                out[i] = (byte) (int) encode.get((int) text.charAt(i));
            }
            return out;
        }

        String decode(byte[] bytes) {
            StringBuilder sb = new StringBuilder(bytes.length);
            for (byte b : bytes) {
                sb.append((char) decode[b & 0xFF]);
            }
            return sb.toString();
        }
    }

    /** Thrown (without stack trace) when bytes do not decode, like Python's UnicodeDecodeError. */
    static final class DecodeException extends Exception {
        private static final long serialVersionUID = 1L;
        static final DecodeException INSTANCE = new DecodeException();

        private DecodeException() {
            super("invalid UTF-8", null, false, false);
        }
    }

    /** CPython's strict UTF-8 decoding of {@code b[from, to)} appended to {@code out}. */
    static void decodeUtf8Strict(byte[] b, int from, int to, StringBuilder out) throws DecodeException {
        int i = from;
        while (i < to) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                out.append((char) c);
                i++;
                continue;
            }
            int len = sequenceLength(b, i, to);
            if (len <= 0) {
                throw DecodeException.INSTANCE;
            }
            out.appendCodePoint(codePoint(b, i, len));
            i += len;
        }
    }

    /**
     * Length of the valid UTF-8 sequence starting at {@code i}, or minus the length of its maximal
     * valid prefix (at least 1) if it is invalid or truncated.
     */
    static int sequenceLength(byte[] b, int i, int to) {
        int c = b[i] & 0xFF;
        int need;
        int lo = 0x80;
        int hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) {
                lo = 0xA0;
            } else if (c == 0xED) {
                hi = 0x9F;
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F;
            }
        } else {
            return -1;
        }
        for (int k = 1; k <= need; k++) {
            if (i + k >= to) {
                return -k;
            }
            int d = b[i + k] & 0xFF;
            if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) {
                return -k;
            }
        }
        return need + 1;
    }

    private static int codePoint(byte[] b, int i, int len) {
        int c = b[i] & 0xFF;
        switch (len) {
            case 2:
                return ((c & 0x1F) << 6) | (b[i + 1] & 0x3F);
            case 3:
                return ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
            default:
                return ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
        }
    }

    /** {@code bytes.decode("utf-8", errors="replace")}: one U+FFFD per maximal invalid subpart. */
    static String decodeUtf8Replace(byte[] b) {
        StringBuilder out = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                out.append((char) c);
                i++;
                continue;
            }
            int len = sequenceLength(b, i, b.length);
            if (len > 0) {
                out.appendCodePoint(codePoint(b, i, len));
                i += len;
            } else {
                out.append('\uFFFD');
                i += -len;
            }
        }
        return out.toString();
    }

    /** {@code bytes.decode("utf-8")}. */
    static String decodeUtf8(byte[] b) throws DecodeException {
        StringBuilder out = new StringBuilder(b.length);
        decodeUtf8Strict(b, 0, b.length, out);
        return out.toString();
    }

    /**
     * ftfy's {@code bytes.decode("utf-8-variants")}: UTF-8 that may also contain CESU-8 surrogate
     * pairs ({@code ED A0..AF xx ED B0..BF xx}) and {@code C0 80} for U+0000. As in ftfy, a
     * Python regex {@code $} also matches just before a final {@code \n}.
     */
    static String decodeUtf8Variants(byte[] b) throws DecodeException {
        StringBuilder out = new StringBuilder(b.length);
        int n = b.length;
        int pos = 0;
        while (pos < n) {
            int p = findSpecial(b, pos);
            if (p < 0) {
                decodeUtf8Strict(b, pos, n, out);
                break;
            }
            if (p > pos) {
                decodeUtf8Strict(b, pos, p, out);
                pos = p;
                continue;
            }
            if ((b[p] & 0xFF) == 0xC0) {
                if (n - p > 1) {
                    out.append('\u0000');
                    pos += 2;
                    continue;
                }
                throw DecodeException.INSTANCE;
            }
            // 0xED: a six-byte CESU-8 sequence, or an error
            if (n - p >= 6 && cesu8At(b, p)) {
                int cp = ((b[p + 1] & 0x0F) << 16) + ((b[p + 2] & 0x3F) << 10) + ((b[p + 4] & 0x0F) << 6)
                        + (b[p + 5] & 0x3F) + 0x10000;
                out.appendCodePoint(cp);
                pos += 6;
                continue;
            }
            throw DecodeException.INSTANCE;
        }
        return out.toString();
    }

    /** Python's {@code $} (no MULTILINE): end of input, or just before a final newline. */
    private static boolean atEnd(byte[] b, int p) {
        return p == b.length || (p == b.length - 1 && b[p] == '\n');
    }

    private static boolean in(byte[] b, int p, int lo, int hi) {
        if (p >= b.length) {
            return false;
        }
        int v = b[p] & 0xFF;
        return v >= lo && v <= hi;
    }

    /** One group {@code ([lo-hi]|$)}; returns the new position or -1. */
    private static int group(byte[] b, int p, int lo, int hi) {
        if (in(b, p, lo, hi)) {
            return p + 1;
        }
        return atEnd(b, p) ? p : -1;
    }

    /** CESU8_RE.match at p: {@code \xed([\xa0-\xaf]|$)([\x80-\xbf]|$)(\xed|$)([\xb0-\xbf]|$)([\x80-\xbf]|$)}. */
    private static boolean cesu8At(byte[] b, int p) {
        if ((b[p] & 0xFF) != 0xED) {
            return false;
        }
        int q = group(b, p + 1, 0xA0, 0xAF);
        q = q < 0 ? -1 : group(b, q, 0x80, 0xBF);
        q = q < 0 ? -1 : group(b, q, 0xED, 0xED);
        q = q < 0 ? -1 : group(b, q, 0xB0, 0xBF);
        q = q < 0 ? -1 : group(b, q, 0x80, 0xBF);
        return q >= 0;
    }

    /** First position of utf8_variants.SPECIAL_BYTES_RE (Java null, CESU-8, lone surrogate). */
    private static int findSpecial(byte[] b, int from) {
        for (int p = from; p < b.length; p++) {
            int v = b[p] & 0xFF;
            if (v == 0xC0) {
                if (p + 1 <= b.length && (in(b, p + 1, 0x80, 0x80) || atEnd(b, p + 1))) {
                    return p;
                }
            } else if (v == 0xED) {
                if (cesu8At(b, p)) {
                    return p;
                }
                int q = group(b, p + 1, 0xA0, 0xBF);
                q = q < 0 ? -1 : group(b, q, 0x80, 0xBF);
                if (q >= 0) {
                    return p;
                }
            }
        }
        return -1;
    }
}
