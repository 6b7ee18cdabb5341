package dev.refact.clip;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.OwnedTensors;
import org.bytedeco.pytorch.Tensor;

/**
 * Zero-shot scores of n images against m texts. Owns its tensors: close it.
 *
 * <ul>
 *   <li>{@link #imageEmbeds()} [n,p] — {@code get_image_features} (not normalised)</li>
 *   <li>{@link #textEmbeds()} [m,p] — {@code get_text_features} (not normalised)</li>
 *   <li>{@link #cosine()} [n,m] — cosine similarity of the L2-normalised embeddings</li>
 *   <li>{@link #logitsPerImage()} [n,m] — {@code scale · cosine}</li>
 *   <li>{@link #probs()} [n,m] — softmax over the texts for each image</li>
 * </ul>
 */
public final class ClipScores implements AutoCloseable {
    private final OwnedTensors owned;
    private final Tensor imageEmbeds;
    private final Tensor textEmbeds;
    private final Tensor cosine;
    private final Tensor logitsPerImage;
    private final Tensor probs;
    private final LogitScale scale;
    private final double scaleValue;

    ClipScores(Tensor imageEmbeds, Tensor textEmbeds, Tensor cosine, Tensor logitsPerImage, Tensor probs,
            LogitScale scale, double scaleValue) {
        this.imageEmbeds = imageEmbeds;
        this.textEmbeds = textEmbeds;
        this.cosine = cosine;
        this.logitsPerImage = logitsPerImage;
        this.probs = probs;
        this.scale = scale;
        this.scaleValue = scaleValue;
        this.owned = new OwnedTensors("ClipScores", imageEmbeds, textEmbeds, cosine, logitsPerImage, probs);
    }

    /**
     * [n,p].
     *
     * @return [n,p] image embeddings in the model's compute dtype, owned by these scores (do not close)
     */
    public Tensor imageEmbeds() {
        return owned.check(imageEmbeds);
    }

    /**
     * [m,p].
     *
     * @return [m,p] text embeddings in the model's compute dtype, owned by these scores (do not close)
     */
    public Tensor textEmbeds() {
        return owned.check(textEmbeds);
    }

    /**
     * [n,m].
     *
     * @return [n,m] cosine similarities in [-1, 1], owned by these scores (do not close)
     */
    public Tensor cosine() {
        return owned.check(cosine);
    }

    /**
     * [n,m].
     *
     * @return [n,m] logits {@code scaleValue() · cosine}, owned by these scores (do not close)
     */
    public Tensor logitsPerImage() {
        return owned.check(logitsPerImage);
    }

    /**
     * [n,m], each row sums to 1.
     *
     * @return [n,m] probabilities (softmax over the texts), owned by these scores (do not close)
     */
    public Tensor probs() {
        return owned.check(probs);
    }

    /**
     * Which temperature was used.
     *
     * @return {@link LogitScale#FIXED_100} or {@link LogitScale#MODEL}
     */
    public LogitScale scale() {
        return scale;
    }

    /**
     * The multiplier applied to the cosines (100, or {@code exp(logit_scale)}).
     *
     * @return 100.0, or {@code exp(logit_scale)} of the model
     */
    public double scaleValue() {
        return scaleValue;
    }

    /**
     * The probabilities as {@code [image][text]}.
     *
     * @return a new n×m array: row i holds image i's probabilities over the m texts
     */
    public double[][] probabilities() {
        double[] flat = Tensors.toDoubles(owned.check(probs));
        int n = (int) probs.size(0);
        int m = (int) probs.size(1);
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * m, out[i], 0, m);
        }
        return out;
    }

    /** {@return whether {@link #close()} has run (then every tensor is freed)} */
    public boolean isClosed() {
        return owned.isClosed();
    }

    /** Frees every tensor; idempotent. */
    @Override
    public void close() {
        owned.close();
    }
}
