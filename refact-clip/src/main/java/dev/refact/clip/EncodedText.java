package dev.refact.clip;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * One text encoded by a {@link ClipTextModel}, as plain Java arrays (no native memory; nothing to close). Made by
 * {@link ClipTextModel#encode(dev.refact.clip.tokenizer.ClipTokenizer, String)}.
 *
 * <p>Shapes (n = 77 token positions, d = hidden width, p = projection width or d without a projection):
 *
 * @param text            the encoded text
 * @param inputIds        [n] the token ids the model saw (start, BPE ids, end, end-token padding)
 * @param hiddenSize      d
 * @param lastHiddenState [n·d] row-major: the last hidden state after {@code final_layer_norm}, what Stable
 *                        Diffusion's UNet consumes
 * @param pooled          [d] the last hidden state at the first end token
 * @param representation  [p] what ReFACT compares: {@code text_projection(pooled)}, or {@code pooled} without a
 *                        projection
 */
public record EncodedText(String text, long[] inputIds, int hiddenSize, float[] lastHiddenState, float[] pooled,
                          float[] representation) {
    /**
     * Copies the arrays and checks their lengths.
     *
     * @throws IllegalArgumentException if {@code lastHiddenState} is not [n·d] or {@code pooled} not [d]
     * @param text the text
     * @param inputIds [n] token ids
     * @param hiddenSize d, the hidden width
     * @param lastHiddenState [n·d] last hidden state, row-major
     * @param pooled [d] pooled output
     * @param representation [p] representation
     */
    public EncodedText {
        Objects.requireNonNull(text, "text");
        inputIds = inputIds.clone();
        lastHiddenState = lastHiddenState.clone();
        pooled = pooled.clone();
        representation = representation.clone();
        if (hiddenSize < 1 || pooled.length != hiddenSize
                || lastHiddenState.length != (long) inputIds.length * hiddenSize) {
            throw new IllegalArgumentException("encoded text arrays do not fit: " + inputIds.length + " ids, d "
                    + hiddenSize + ", last hidden state " + lastHiddenState.length + ", pooled " + pooled.length);
        }
    }

    /** {@return [n] token ids (a copy)} */
    @Override
    public long[] inputIds() {
        return inputIds.clone();
    }

    /** {@return [n·d] last hidden state, row-major (a copy)} */
    @Override
    public float[] lastHiddenState() {
        return lastHiddenState.clone();
    }

    /** {@return [d] pooled output (a copy)} */
    @Override
    public float[] pooled() {
        return pooled.clone();
    }

    /** {@return [p] representation (a copy)} */
    @Override
    public float[] representation() {
        return representation.clone();
    }

    /**
     * The last hidden state at one token position: [d] (a copy).
     *
     * @throws IndexOutOfBoundsException for a position outside [0, n)
     * @param position token position in [0, n)
     * @return the last hidden state at one token position: [d] (a copy)
     */
    public float[] hiddenStateAt(int position) {
        Objects.checkIndex(position, inputIds.length);
        return Arrays.copyOfRange(lastHiddenState, position * hiddenSize, (position + 1) * hiddenSize);
    }

    /**
     * Cosine similarity of the two representations, in [-1, 1] (computed in double).
     *
     * @throws IllegalArgumentException if the representations have different widths (different models)
     * @param other another encoded text (same model)
     * @return cosine similarity of the two representations, in [-1, 1] (computed in double)
     */
    public double cosineSimilarity(EncodedText other) {
        return cosineSimilarity(representation, other.representation);
    }

    /**
     * Cosine similarity of two vectors, computed in double; 0 when either is zero.
     *
     * @throws IllegalArgumentException if the lengths differ
     * @param a first vector
     * @param b second vector (same length)
     * @return cosine similarity of two vectors, computed in double; 0 when either is zero
     */
    public static double cosineSimilarity(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("vectors of different lengths: " + a.length + " and " + b.length);
        }
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedText e && e.text.equals(text) && e.hiddenSize == hiddenSize
                && Arrays.equals(e.inputIds, inputIds) && Arrays.equals(e.lastHiddenState, lastHiddenState)
                && Arrays.equals(e.pooled, pooled) && Arrays.equals(e.representation, representation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(text, Arrays.hashCode(inputIds), Arrays.hashCode(pooled));
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "EncodedText[\"%s\", %d tokens × %d, representation %d]", text,
                inputIds.length, hiddenSize, representation.length);
    }
}
