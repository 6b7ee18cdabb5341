package dev.refact.clip.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Character data of the Python reference, loaded once from {@code unicode-tables.txt}.
 *
 * <p>The resource is written by {@code refact-clip/scripts/gen_tokenizer_tables.py} from CPython 3.11
 * ({@code unicodedata} 14.0.0) and the {@code regex} module that openai/CLIP imports. Using it instead
 * of {@link Character} makes the tokenizer independent of the JVM's Unicode version (Java 17 ships
 * Unicode 13, Java 21 Unicode 15) and equal to the reference on every code point.
 */
final class UnicodeTables {
    private static final String RESOURCE = "unicode-tables.txt";

    /** {@code [\p{L}]} of the {@code regex} module. */
    final CodePointSet regexLetter;
    /** {@code [\p{N}]} of the {@code regex} module. */
    final CodePointSet regexNumber;
    /** {@code \s} of the {@code regex} module (Unicode White_Space; not U+001C..U+001F). */
    final CodePointSet regexSpace;
    /** Python {@code str.isspace()} (also {@code \s} of Python's {@code re}; includes U+001C..U+001F). */
    final CodePointSet pySpace;
    /** {@code \w} of Python's {@code re} for str patterns. */
    final CodePointSet reWord;
    /** {@code \d} of Python's {@code re} for str patterns. */
    final CodePointSet reDigit;
    /** Case_Ignorable, as Python's {@code str.lower()} uses it for the final-sigma rule. */
    final CodePointSet caseIgnorable;
    /** Cased and not Case_Ignorable (the only "cased" that matters to the final-sigma rule). */
    final CodePointSet casedNotIgnorable;
    /** Python {@code str.lower()} of single code points that change (excluding U+03A3). */
    final Map<Integer, int[]> lower;
    /** BMP fast path of {@link #lower} for one-to-one mappings; -1 = see the map, 0 = unchanged. */
    final int[] lowerBmp;
    /** ftfy's extra upper-case entity names (without '&'), e.g. {@code EACUTE;} → "É". */
    final Map<String, String> ftfyUppercaseEntities;
    /** Canonical combining class per code point (absent = 0). */
    final Map<Integer, Integer> combiningClass;
    /** BMP fast path of {@link #combiningClass}. */
    final byte[] combiningClassBmp;
    /** Canonical decompositions (one level), Hangul syllables excluded. */
    final Map<Integer, int[]> canonicalDecomposition;
    /** Primary composites: (first &lt;&lt; 21 | second) → composite. */
    final Map<Long, Integer> composition;
    /** Code points that are the second half of a primary composite (incl. Hangul V and T jamo). */
    final java.util.Set<Integer> compositionSeconds;
    /**
     * BMP characters after which and before which NFC can work independently: combining class 0,
     * no canonical decomposition (Hangul syllables allowed), not a composition's second half.
     */
    final boolean[] nfcInertBmp;
    /** ftfy's fix_character_width table. */
    final Map<Integer, String> width;
    /** {@code html.entities.html5}: name (with or without ';') → replacement. */
    final Map<String, String> html5;
    /** {@code html._invalid_charrefs}. */
    final Map<Integer, String> htmlInvalidCharrefs;
    /** {@code html._invalid_codepoints}. */
    final CodePointSet htmlInvalidCodepoints;
    /** Python decode tables (256 entries, -1 = undefined byte) by codec name. */
    final Map<String, int[]> codepages;

    private static final class Holder {
        static final UnicodeTables INSTANCE = load();
    }

    static UnicodeTables get() {
        return Holder.INSTANCE;
    }

    private UnicodeTables(Map<String, List<String[]>> sections) {
        regexLetter = ranges(sections, "regex_L");
        regexNumber = ranges(sections, "regex_N");
        regexSpace = ranges(sections, "regex_space");
        pySpace = ranges(sections, "py_isspace");
        reWord = ranges(sections, "re_word");
        reDigit = ranges(sections, "re_digit");
        caseIgnorable = ranges(sections, "case_ignorable");
        casedNotIgnorable = ranges(sections, "cased_not_ignorable");
        lower = new HashMap<>();
        lowerBmp = new int[0x10000];
        for (String[] row : section(sections, "lower")) {
            int cp = hex(row[0]);
            int[] to = codePoints(row, 1);
            lower.put(cp, to);
            if (cp < 0x10000) {
                lowerBmp[cp] = to.length == 1 ? to[0] : -1;
            }
        }
        ftfyUppercaseEntities = new HashMap<>();
        for (String[] row : section(sections, "ftfy_uppercase_entities")) {
            ftfyUppercaseEntities.put(row[0], string(codePoints(row, 1)));
        }
        combiningClass = new HashMap<>();
        combiningClassBmp = new byte[0x10000];
        for (String[] row : section(sections, "ccc")) {
            int cp = hex(row[0]);
            int ccc = hex(row[1]);
            combiningClass.put(cp, ccc);
            if (cp < 0x10000) {
                combiningClassBmp[cp] = (byte) ccc;
            }
        }
        canonicalDecomposition = new HashMap<>();
        for (String[] row : section(sections, "canonical_decomposition")) {
            canonicalDecomposition.put(hex(row[0]), codePoints(row, 1));
        }
        CodePointSet excluded = list(sections, "composition_excluded");
        composition = new HashMap<>();
        for (Map.Entry<Integer, int[]> e : canonicalDecomposition.entrySet()) {
            int[] d = e.getValue();
            if (d.length == 2 && !excluded.contains(e.getKey())) {
                composition.put(pairKey(d[0], d[1]), e.getKey());
            }
        }
        compositionSeconds = new java.util.HashSet<>();
        for (Map.Entry<Integer, int[]> e : canonicalDecomposition.entrySet()) {
            int[] d = e.getValue();
            if (d.length == 2 && !excluded.contains(e.getKey())) {
                compositionSeconds.add(d[1]);
            }
        }
        for (int c = 0x1161; c <= 0x1175; c++) {
            compositionSeconds.add(c); // Hangul V
        }
        for (int c = 0x11A8; c <= 0x11C2; c++) {
            compositionSeconds.add(c); // Hangul T
        }
        nfcInertBmp = new boolean[0x10000];
        for (int c = 0; c < 0x10000; c++) {
            boolean hangulSyllable = c >= 0xAC00 && c <= 0xD7A3;
            nfcInertBmp[c] = combiningClassBmp[c] == 0 && !compositionSeconds.contains(c)
                    && (hangulSyllable || !canonicalDecomposition.containsKey(c));
        }
        width = new HashMap<>();
        for (String[] row : section(sections, "width")) {
            width.put(hex(row[0]), string(codePoints(row, 1)));
        }
        html5 = new HashMap<>();
        for (String[] row : section(sections, "html5")) {
            html5.put(row[0], string(codePoints(row, 1)));
        }
        htmlInvalidCharrefs = new HashMap<>();
        for (String[] row : section(sections, "html_invalid_charrefs")) {
            htmlInvalidCharrefs.put(hex(row[0]), string(codePoints(row, 1)));
        }
        htmlInvalidCodepoints = list(sections, "html_invalid_codepoints");
        codepages = new HashMap<>();
        for (Map.Entry<String, List<String[]>> e : sections.entrySet()) {
            if (e.getKey().startsWith("codepage:")) {
                int[] table = new int[256];
                for (String[] row : e.getValue()) {
                    table[hex(row[0])] = row[1].equals("-") ? -1 : hex(row[1]);
                }
                codepages.put(e.getKey().substring("codepage:".length()), table);
            }
        }
    }

    static long pairKey(int first, int second) {
        return ((long) first << 21) | second;
    }

    private static UnicodeTables load() {
        Map<String, List<String[]>> sections = new HashMap<>();
        try (InputStream in = UnicodeTables.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the refact-clip jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line;
            List<String[]> current = null;
            int expected = 0;
            String name = null;
            boolean ended = false;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("@")) {
                    if (current != null && current.size() != expected) {
                        throw new IllegalStateException(RESOURCE + ": section " + name + " has " + current.size()
                                + " rows, expected " + expected);
                    }
                    if (line.equals("@end")) {
                        ended = true;
                        break;
                    }
                    String[] h = line.split(" ");
                    name = h[0].equals("@codepage") ? "codepage:" + h[1] : h[1];
                    expected = Integer.parseInt(h[2]);
                    current = new ArrayList<>(expected);
                    sections.put(name, current);
                    continue;
                }
                current.add(line.split(" "));
            }
            if (!ended) {
                throw new IllegalStateException(RESOURCE + " is truncated (no @end)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + RESOURCE, e);
        }
        return new UnicodeTables(sections);
    }

    private static List<String[]> section(Map<String, List<String[]>> sections, String name) {
        List<String[]> s = sections.get(name);
        if (s == null) {
            throw new IllegalStateException(RESOURCE + ": missing section " + name);
        }
        return s;
    }

    private static CodePointSet ranges(Map<String, List<String[]>> sections, String name) {
        List<String[]> rows = section(sections, name);
        int[] starts = new int[rows.size()];
        int[] ends = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            String s = rows.get(i)[0];
            int dash = s.indexOf('-');
            starts[i] = hex(dash < 0 ? s : s.substring(0, dash));
            ends[i] = dash < 0 ? starts[i] : hex(s.substring(dash + 1));
        }
        return new CodePointSet(starts, ends);
    }

    private static CodePointSet list(Map<String, List<String[]>> sections, String name) {
        List<String[]> rows = section(sections, name);
        int[] cps = new int[rows.size()];
        for (int i = 0; i < cps.length; i++) {
            cps[i] = hex(rows.get(i)[0]);
        }
        Arrays.sort(cps);
        return new CodePointSet(cps, cps.clone());
    }

    private static int hex(String s) {
        return Integer.parseInt(s, 16);
    }

    private static int[] codePoints(String[] row, int from) {
        int[] out = new int[row.length - from];
        for (int i = from; i < row.length; i++) {
            out[i - from] = hex(row[i]);
        }
        return out;
    }

    private static String string(int[] cps) {
        return new String(cps, 0, cps.length);
    }

    /** An immutable set of code points: sorted disjoint ranges plus a BMP bitmap. */
    static final class CodePointSet {
        private final int[] starts;
        private final int[] ends;
        private final long[] bmp = new long[0x10000 / 64];

        CodePointSet(int[] starts, int[] ends) {
            this.starts = starts;
            this.ends = ends;
            for (int i = 0; i < starts.length; i++) {
                for (int c = starts[i]; c <= ends[i] && c < 0x10000; c++) {
                    bmp[c >>> 6] |= 1L << (c & 63);
                }
            }
        }

        boolean contains(int cp) {
            if (cp < 0x10000) {
                return cp >= 0 && (bmp[cp >>> 6] & (1L << (cp & 63))) != 0;
            }
            int i = Arrays.binarySearch(starts, cp);
            if (i >= 0) {
                return true;
            }
            int k = -i - 2;
            return k >= 0 && cp <= ends[k];
        }
    }
}
