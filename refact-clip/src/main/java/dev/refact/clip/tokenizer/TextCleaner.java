package dev.refact.clip.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's text preparation and word splitting, equal to openai/CLIP {@code simple_tokenizer}:
 * {@code whitespace_clean(basic_clean(text)).lower()} followed by {@code re.findall(pat, text)}.
 */
final class TextCleaner {
    private static final String START_LITERAL = "<|startoftext|>";
    private static final String END_LITERAL = "<|endoftext|>";
    private static final String[] CONTRACTIONS = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    /** U+0345 matches no branch of CLIP's pattern under regex.IGNORECASE (it case-folds to a letter). */
    private static final int YPOGEGRAMMENI = 0x345;

    private TextCleaner() {
    }

    /**
     * {@code whitespace_clean(basic_clean(text)).lower()}: ftfy, {@code html.unescape} twice,
     * strip, runs of {@code regex} {@code \s} to one space, strip, Python {@code lower()}.
     */
    static String clean(String text) {
        String t = Ftfy.fixText(text);
        t = HtmlEntities.pythonUnescape(HtmlEntities.pythonUnescape(t));
        t = PyText.strip(t);
        t = collapseWhitespace(t);
        t = PyText.strip(t);
        return PyText.lower(t);
    }

    /** {@code regex.sub(r'\s+', ' ', text)} with the {@code regex} module's {@code \s}. */
    static String collapseWhitespace(String t) {
        UnicodeTables tables = UnicodeTables.get();
        StringBuilder sb = new StringBuilder(t.length());
        int i = 0;
        boolean changed = false;
        while (i < t.length()) {
            int cp = t.codePointAt(i);
            if (tables.regexSpace.contains(cp)) {
                int j = i;
                while (j < t.length() && tables.regexSpace.contains(t.codePointAt(j))) {
                    j += Character.charCount(t.codePointAt(j));
                }
                if (j - i != 1 || cp != ' ') {
                    changed = true;
                }
                sb.append(' ');
                i = j;
            } else {
                sb.appendCodePoint(cp);
                i += Character.charCount(cp);
            }
        }
        return changed ? sb.toString() : t;
    }

    /**
     * {@code regex.findall} of CLIP's pattern (compiled with {@code IGNORECASE}) on cleaned text:
     * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}.
     *
     * @return [start, end) char offsets of each word, in order
     */
    static List<int[]> split(String text) {
        UnicodeTables t = UnicodeTables.get();
        List<int[]> out = new ArrayList<>();
        int n = text.length();
        int i = 0;
        while (i < n) {
            int end = literalAt(text, i);
            if (end < 0) {
                int cp = text.codePointAt(i);
                if (t.regexLetter.contains(cp)) {
                    end = i + Character.charCount(cp);
                    while (end < n) {
                        int c = text.codePointAt(end);
                        if (!t.regexLetter.contains(c)) {
                            break;
                        }
                        end += Character.charCount(c);
                    }
                } else if (t.regexNumber.contains(cp)) {
                    end = i + Character.charCount(cp);
                } else if (isOther(t, cp)) {
                    end = i + Character.charCount(cp);
                    while (end < n) {
                        int c = text.codePointAt(end);
                        if (!isOther(t, c)) {
                            break;
                        }
                        end += Character.charCount(c);
                    }
                }
            }
            if (end < 0) {
                i += Character.charCount(text.codePointAt(i)); // nothing matches here: findall moves on
            } else {
                out.add(new int[] {i, end});
                i = end;
            }
        }
        return out;
    }

    /** {@code [^\s\p{L}\p{N}]} under IGNORECASE. */
    private static boolean isOther(UnicodeTables t, int cp) {
        return !t.regexSpace.contains(cp) && !t.regexLetter.contains(cp) && !t.regexNumber.contains(cp)
                && cp != YPOGEGRAMMENI;
    }

    /** End of the first literal branch matching at {@code i} (case-insensitively), or -1. */
    private static int literalAt(String text, int i) {
        char c = text.charAt(i);
        if (c == '<') {
            int e = matchIgnoreCase(text, i, START_LITERAL);
            if (e < 0) {
                e = matchIgnoreCase(text, i, END_LITERAL);
            }
            return e;
        }
        if (c == '\'') {
            for (String lit : CONTRACTIONS) {
                int e = matchIgnoreCase(text, i, lit);
                if (e >= 0) {
                    return e;
                }
            }
        }
        return -1;
    }

    /**
     * Matches an ASCII literal with the {@code regex} module's simple case folding: a letter also
     * matches its upper case, and 's' also matches U+017F LATIN SMALL LETTER LONG S.
     */
    private static int matchIgnoreCase(String text, int i, String literal) {
        if (i + literal.length() > text.length()) {
            return -1;
        }
        for (int k = 0; k < literal.length(); k++) {
            char want = literal.charAt(k);
            char got = text.charAt(i + k);
            if (got == want) {
                continue;
            }
            boolean letter = want >= 'a' && want <= 'z';
            if (letter && got == (char) (want - 'a' + 'A')) {
                continue;
            }
            if (want == 's' && got == '\u017F') {
                continue;
            }
            return -1;
        }
        return i + literal.length();
    }
}
