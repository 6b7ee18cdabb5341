package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.vision.ClipImageProcessor;
import dev.refact.clip.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Zero-shot image classification with a full CLIP model: images and texts in, probabilities out.
 *
 * <p>Images go through {@link ClipImageProcessor} (HF-exact), texts through {@link ClipTokenizer}
 * (start token, BPE, end token, end-token padding to the model's context length; the padding does not
 * change the embeddings, since pooling takes the first end token and attention is causal).
 *
 * <pre>{@code
 * try (ZeroShotClassifier c = ZeroShotClassifier.load(Path.of("clip-vit-large-patch14"), null)) {
 *     double[] p = c.twoWay(image, "Donald Trump", "Joe Biden", LogitScale.FIXED_100); // {p(old), p(new)}
 * }
 * }</pre>
 *
 * <p>Owns the {@link ClipModel} it was given or loaded; {@link #close()} frees it.
 */
public final class ZeroShotClassifier implements AutoCloseable {
    private final ClipModel model;
    private final ClipImageProcessor processor;
    private final ClipTokenizer tokenizer;

    private ZeroShotClassifier(ClipModel model, ClipImageProcessor processor, ClipTokenizer tokenizer) {
        this.model = Objects.requireNonNull(model, "model");
        this.processor = Objects.requireNonNull(processor, "processor");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        int[] hw = processor.outputSize(model.imageSize(), model.imageSize());
        if (hw[0] != model.imageSize() || hw[1] != model.imageSize()) {
            throw new IllegalArgumentException("the image processor makes " + hw[1] + "x" + hw[0]
                    + " pixel values but the model's image_size is " + model.imageSize());
        }
    }

    /**
     * A classifier over the given parts; takes ownership of {@code model}, also when it fails: the model is then
     * closed before the exception propagates (as {@link #load} does with the model it loaded).
     *
     * @param model     a full CLIP model; closed by this classifier's {@link #close()}, or by this method if it throws
     * @param processor the image preprocessing; its output size must equal {@code model.imageSize()}
     * @param tokenizer the model's tokenizer
     * @return the classifier, owned by the caller (close it)
     * @throws IllegalArgumentException if the processor's output size is not the model's image size
     * @throws NullPointerException     if {@code model}, {@code processor} or {@code tokenizer} is null
     */
    public static ZeroShotClassifier of(ClipModel model, ClipImageProcessor processor, ClipTokenizer tokenizer) {
        try {
            return new ZeroShotClassifier(model, processor, tokenizer);
        } catch (RuntimeException e) {
            if (model != null) {
                model.close();
            }
            throw e;
        }
    }

    /**
     * Loads on CPU in float32. See {@link #load(Path, Path, Device)}.
     *
     * @param clipDir      an HF CLIP folder ({@code config.json}, {@code model.safetensors},
     *                     {@code preprocessor_config.json})
     * @param tokenizerDir the tokenizer folder or file, or null to use {@code clipDir} (or its {@code tokenizer/}
     *                     sub-folder)
     * @return the classifier, owned by the caller (close it)
     * @throws IOException if a part is missing or malformed (the message names the file)
     */
    public static ZeroShotClassifier load(Path clipDir, Path tokenizerDir) throws IOException {
        try (Device cpu = Tensors.cpu()) {
            return load(clipDir, tokenizerDir, cpu);
        }
    }

    /**
     * Loads a classifier from an HF CLIP folder.
     *
     * @param clipDir      {@code config.json}, {@code model.safetensors}, {@code preprocessor_config.json}
     *                     (and usually {@code vocab.json} + {@code merges.txt})
     * @param tokenizerDir the tokenizer folder or file, or null to use {@code clipDir} (or its
     *                     {@code tokenizer/} sub-folder)
     * @param device       where the model runs (the caller keeps ownership of the Device object)
     * @return the classifier (float32 model), owned by the caller (close it)
     * @throws IOException if a part is missing or malformed (the message names the file)
     */
    public static ZeroShotClassifier load(Path clipDir, Path tokenizerDir, Device device) throws IOException {
        Path tokPath = tokenizerDir != null ? tokenizerDir : clipDir;
        if (tokenizerDir == null && !Files.isRegularFile(clipDir.resolve("vocab.json"))
                && !Files.isDirectory(clipDir.resolve("tokenizer"))) {
            throw new CheckpointFormatException(clipDir, "has no vocab.json + merges.txt (and no tokenizer/); "
                    + "give the tokenizer folder explicitly");
        }
        ClipTokenizer tok = ClipTokenizer.load(tokPath);
        ClipImageProcessor proc = ClipImageProcessor.load(clipDir);
        return of(ClipModel.load(clipDir, device, torch.ScalarType.Float), proc, tok); // closes the model on failure
    }

    /**
     * The model (owned by this classifier).
     *
     * @return the model; do not close it separately
     */
    public ClipModel model() {
        return model;
    }

    /**
     * The image preprocessing.
     *
     * @return the processor that makes the model's {@code pixel_values}
     */
    public ClipImageProcessor processor() {
        return processor;
    }

    /**
     * The tokenizer.
     *
     * @return the tokenizer used by {@link #inputIds}
     */
    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Token ids for texts, [m, context length] int64 on the model's device, end-token padded.
     *
     * @param texts one or more texts; each is truncated so that its end token stays
     * @return a new [m, ctx] int64 tensor (ctx = the text tower's {@code max_position_embeddings}), owned by the caller
     * @throws IllegalArgumentException if the list is empty
     */
    public Tensor inputIds(List<String> texts) {
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("no texts to classify against");
        }
        int ctx = model.text().config().maxPositionEmbeddings();
        long[] flat = new long[texts.size() * ctx];
        for (int i = 0; i < texts.size(); i++) {
            System.arraycopy(tokenizer.inputIds(texts.get(i), ctx, Padding.END_TOKEN), 0, flat, i * ctx, ctx);
        }
        return Tensors.longs(flat, model.text().device(), texts.size(), ctx);
    }

    /**
     * Scores every image against every text.
     *
     * @param images one or more RGB images (any size; preprocessed as HF does)
     * @param texts  one or more texts
     * @param scale  the temperature
     * @return the scores, owned by the caller; {@code probs()} is softmax over the texts per image
     */
    public ClipScores scores(List<RgbImage> images, List<String> texts, LogitScale scale) {
        Tensor px;
        Tensor ids;
        try (PointerScope scope = new PointerScope()) {
            px = processor.pixelValues(images, model.vision().device()).retainReference();
            ids = inputIds(texts).retainReference();
        }
        try {
            return model.scores(px, ids, scale);
        } finally {
            px.close();
            ids.close();
        }
    }

    /**
     * ReFACT's two-way test for one image: {@code softmax(scale · cos)} over {@code [oldText, newText]}.
     *
     * @param image   the image (any size; preprocessed as HF does)
     * @param oldText the text of the old concept (e.g. the edit's source)
     * @param newText the text of the new concept (e.g. the edit's target)
     * @param scale   the temperature
     * @return {@code {p(old), p(new)}}
     */
    public double[] twoWay(RgbImage image, String oldText, String newText, LogitScale scale) {
        try (PointerScope scope = new PointerScope()) {
            // The scores' tensors belong to this scope (hand-off rule) and are freed with it.
            return scores(List.of(image), List.of(oldText, newText), scale).probabilities()[0];
        }
    }

    @Override
    public String toString() {
        return "ZeroShotClassifier[" + model + "]";
    }

    @Override
    public void close() {
        model.close();
    }
}
