package dev.refact.clip.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE over one word (one match of CLIP's split pattern), as in openai/CLIP
 * {@code SimpleTokenizer.bpe}: the word's UTF-8 bytes become byte-unicode symbols, the last one
 * carrying the {@code </w>} end-of-word marker; then the adjacent pair with the lowest merge rank
 * is merged everywhere (left to right, non-overlapping) until no pair has a rank.
 *
 * <p>Immutable except for a bounded, thread-safe cache of word → ids (a {@link ConcurrentHashMap}
 * that is emptied when it reaches {@link #CACHE_SIZE} words; results never depend on it).
 */
final class BytePairEncoder {
    /** Cache size: distinct words kept; CLIP's own cache is unbounded. */
    static final int CACHE_SIZE = 65_536;

    private final int[] byteSymbol = new int[256];
    private final int[] byteEndSymbol = new int[256];
    private final MergeTable merges;
    private final String startLiteral;
    private final String endLiteral;
    private final int startId;
    private final int endId;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param byteSymbol    vocabulary id of each byte's symbol
     * @param byteEndSymbol vocabulary id of each byte's symbol followed by {@code </w>}
     * @param mergeLeft     left symbol id of merge {@code r} (rank {@code r})
     * @param mergeRight    right symbol id of merge {@code r}
     * @param mergeResult   id of the merged symbol
     */
    BytePairEncoder(int[] byteSymbol, int[] byteEndSymbol, int[] mergeLeft, int[] mergeRight, int[] mergeResult,
            String startLiteral, int startId, String endLiteral, int endId) {
        System.arraycopy(byteSymbol, 0, this.byteSymbol, 0, 256);
        System.arraycopy(byteEndSymbol, 0, this.byteEndSymbol, 0, 256);
        this.merges = new MergeTable(mergeLeft.length);
        for (int r = 0; r < mergeLeft.length; r++) {
            // dict(zip(merges, range(len(merges)))): a repeated pair keeps its last rank
            merges.put(mergeLeft[r], mergeRight[r], r, mergeResult[r]);
        }
        this.startLiteral = startLiteral;
        this.startId = startId;
        this.endLiteral = endLiteral;
        this.endId = endId;
    }

    /** Token ids of one word; the returned array must not be modified. */
    int[] encodeWord(String word) {
        if (word.equals(startLiteral)) {
            return new int[] {startId};
        }
        if (word.equals(endLiteral)) {
            return new int[] {endId};
        }
        int[] hit = cache.get(word);
        if (hit != null) {
            return hit;
        }
        int[] ids = bpe(word.getBytes(StandardCharsets.UTF_8));
        if (cache.size() >= CACHE_SIZE) {
            cache.clear();
        }
        cache.put(word, ids);
        return ids;
    }

    /** Appends the ids of every word to {@code out}. */
    void encodeWords(String text, List<int[]> words, IntList out) {
        for (int[] w : words) {
            out.addAll(encodeWord(text.substring(w[0], w[1])));
        }
    }

    private int[] bpe(byte[] bytes) {
        int n = bytes.length;
        int[] word = new int[n];
        for (int i = 0; i < n - 1; i++) {
            word[i] = byteSymbol[bytes[i] & 0xFF];
        }
        word[n - 1] = byteEndSymbol[bytes[n - 1] & 0xFF];
        while (n > 1) {
            int bestRank = Integer.MAX_VALUE;
            int first = -1;
            int second = -1;
            int merged = -1;
            for (int i = 0; i < n - 1; i++) {
                long e = merges.get(word[i], word[i + 1]);
                if (e >= 0 && (int) (e >>> 32) < bestRank) {
                    bestRank = (int) (e >>> 32);
                    merged = (int) e;
                    first = word[i];
                    second = word[i + 1];
                }
            }
            if (merged < 0) {
                break;
            }
            int out = 0;
            for (int j = 0; j < n; ) {
                if (j < n - 1 && word[j] == first && word[j + 1] == second) {
                    word[out++] = merged;
                    j += 2;
                } else {
                    word[out++] = word[j++];
                }
            }
            n = out;
        }
        return Arrays.copyOf(word, n);
    }

    /** Open-addressing map (left, right) → (rank &lt;&lt; 32 | result). */
    private static final class MergeTable {
        private final long[] keys;
        private final long[] values;
        private final int mask;

        MergeTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            Arrays.fill(keys, -1L);
            mask = cap - 1;
        }

        private static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xFFFFFFFFL);
        }

        private int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        void put(int a, int b, int rank, int result) {
            long k = key(a, b);
            int s = slot(k);
            while (keys[s] != -1L && keys[s] != k) {
                s = (s + 1) & mask;
            }
            keys[s] = k;
            values[s] = ((long) rank << 32) | (result & 0xFFFFFFFFL);
        }

        long get(int a, int b) {
            long k = key(a, b);
            int s = slot(k);
            while (true) {
                long ks = keys[s];
                if (ks == k) {
                    return values[s];
                }
                if (ks == -1L) {
                    return -1L;
                }
                s = (s + 1) & mask;
            }
        }
    }

    /** A growable int array. */
    static final class IntList {
        private int[] data = new int[32];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] vs) {
            if (size + vs.length > data.length) {
                data = Arrays.copyOf(data, Math.max(size * 2, size + vs.length));
            }
            System.arraycopy(vs, 0, data, size, vs.length);
            size += vs.length;
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
