package dev.refact.clip.tokenizer;

/**
 * GPT-2/CLIP {@code bytes_to_unicode()}: a reversible map from the 256 byte values to printable
 * characters. Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) map to themselves;
 * the other 68 bytes, in increasing order, map to U+0100, U+0101, ...
 */
final class ByteUnicode {
    /** Character of each byte. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /**
     * Byte values in the order of the dict's values: the printable bytes first, then the others.
     * This is the order of the first 256 (and next 256, with {@code </w>}) openai vocabulary ids.
     */
    static final int[] VOCAB_ORDER = new int[256];
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        boolean[] printable = new boolean[256];
        int k = 0;
        for (int b = 0; b < 256; b++) {
            printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable[b]) {
                BYTE_TO_CHAR[b] = (char) b;
                VOCAB_ORDER[k++] = b;
            }
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable[b]) {
                BYTE_TO_CHAR[b] = (char) (256 + n++);
                VOCAB_ORDER[k++] = b;
            }
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteUnicode() {
    }

    /** The byte a symbol character stands for, or -1. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }
}
