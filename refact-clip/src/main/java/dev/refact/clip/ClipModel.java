package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A full CLIP model (HF {@code CLIPModel}): text tower, vision tower, both projections and
 * {@code logit_scale}, for zero-shot image classification.
 *
 * <pre>{@code
 * try (ClipModel clip = ClipModel.load(Path.of("clip-vit-large-patch14"));
 *      ClipScores s = clip.scores(pixelValues, inputIds, LogitScale.FIXED_100)) {
 *     double[][] p = s.probabilities();   // [image][text], softmax(100 · cos) over the texts
 * }
 * }</pre>
 *
 * <p>{@code logit_scale} is the stored 0-dim tensor (a log; HF multiplies by its {@code exp}), not
 * {@code logit_scale_init_value} from the config. Any HF CLIP checkpoint in safetensors form works
 * (openai/clip-vit-*, laion/CLIP-ViT-*); the config's {@code hidden_act} per tower is honoured.
 *
 * <p>Memory: owns both towers; {@link #close()} frees everything. Returned tensors follow the
 * library's hand-off rule ({@link Tensors#handOff}).
 */
public final class ClipModel implements AutoCloseable {
    private final ClipTextModel text;
    private final ClipVisionModel vision;
    private final double logitScale;

    private ClipModel(ClipTextModel text, ClipVisionModel vision, double logitScale) {
        this.text = text;
        this.vision = vision;
        this.logitScale = logitScale;
    }

    /**
     * Loads in float32 on CPU. See {@link #load(Path, Device, ScalarType)}.
     *
     * @param dir a folder with {@code config.json} (a {@code CLIPConfig}) and {@code model.safetensors}
     * @return the loaded model, owned by the caller (close it)
     * @throws IOException if a file cannot be read, or a {@link CheckpointFormatException} if the folder is not a
     *                     full CLIP checkpoint
     */
    public static ClipModel load(Path dir) throws IOException {
        TorchRuntime.ensureLoaded();
        try (Device cpu = Tensors.cpu()) {
            return load(dir, cpu, torch.ScalarType.Float);
        }
    }

    /**
     * Loads a full CLIP model.
     *
     * @param dir          a folder with {@code config.json} (a {@code CLIPConfig} with {@code text_config} and
     *                     {@code vision_config}) and {@code model.safetensors}
     * @param device       where the weights live (the caller keeps ownership of the Device object)
     * @param computeDtype Float (default), Half or BFloat16
     * @return the loaded model, owned by the caller (close it)
     * @throws CheckpointFormatException if the folder is not a full CLIPModel (no vision tower, no projections,
     *                                   no {@code logit_scale}) or a tensor is missing or mis-shaped
     * @throws IOException if {@code config.json} or the weights cannot be read
     */
    public static ClipModel load(Path dir, Device device, ScalarType computeDtype) throws IOException {
        TorchRuntime.ensureLoaded();
        Path folder = ClipVisionModel.folder(dir);
        Path weights = ClipVisionModel.weights(folder);
        double scale;
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            if (!f.contains("logit_scale")) {
                throw new CheckpointFormatException(weights, "logit_scale", "missing: not a full CLIPModel checkpoint");
            }
            float[] v = f.readFloats("logit_scale");
            if (v.length != 1 || !Float.isFinite(v[0])) {
                throw new CheckpointFormatException(weights, "logit_scale", "must be one finite value, got "
                        + v.length + " value(s)");
            }
            scale = v[0];
        }
        ClipVisionModel vision = ClipVisionModel.load(folder, device, computeDtype);
        ClipTextModel text = null;
        try {
            text = ClipTextModel.load(folder, device, computeDtype);
            if (!text.hasProjection() || !vision.hasProjection()) {
                throw new CheckpointFormatException(weights, (text.hasProjection() ? "visual_projection.weight"
                        : "text_projection.weight") + " is missing: zero-shot scores need both projections");
            }
            if (text.representationDim() != vision.projectionDim()) {
                throw new CheckpointFormatException(weights, "text_projection gives " + text.representationDim()
                        + " dimensions but visual_projection gives " + vision.projectionDim());
            }
            return new ClipModel(text, vision, scale);
        } catch (IOException | RuntimeException e) {
            vision.close();
            if (text != null) {
                text.close();
            }
            throw e;
        }
    }

    /**
     * The text tower (owned by this model).
     *
     * @return the text tower; do not close it separately
     */
    public ClipTextModel text() {
        return text;
    }

    /**
     * The vision tower (owned by this model).
     *
     * @return the vision tower; do not close it separately
     */
    public ClipVisionModel vision() {
        return vision;
    }

    /**
     * The stored {@code logit_scale} (a log: the model's temperature is {@code exp} of it).
     *
     * @return the stored log temperature, as read from {@code logit_scale} (e.g. ≈ 4.6052 = ln 100)
     */
    public double logitScale() {
        return logitScale;
    }

    /**
     * Side of the square input image, {@code vision_config.image_size}.
     *
     * @return the input image side S in pixels (e.g. 224)
     */
    public int imageSize() {
        return vision.config().imageSize();
    }

    /**
     * {@code get_image_features}: projected pooled image embeddings.
     *
     * @param pixelValues [n,3,S,S]
     * @return [n,p], not normalised, owned by the caller
     */
    public Tensor imageEmbeds(Tensor pixelValues) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            // The encoding's tensors belong to this scope (hand-off rule); keep one, the scope frees the rest.
            out = vision.encode(pixelValues).imageEmbeds().retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * {@code get_text_features}: projected pooled text embeddings.
     *
     * @param inputIds [m,n] token ids (start token, BPE, end token, padding)
     * @return [m,p], not normalised, owned by the caller
     */
    public Tensor textEmbeds(Tensor inputIds) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = text.encode(inputIds).textEmbeds().retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * Zero-shot scores of every image against every text.
     *
     * @param pixelValues [n,3,S,S]
     * @param inputIds    [m,n] token ids
     * @param scale       {@link LogitScale#FIXED_100} (ReFACT's evaluation) or {@link LogitScale#MODEL}
     * @return embeddings, cosines, logits and probabilities (softmax over the texts), owned by the caller
     */
    public ClipScores scores(Tensor pixelValues, Tensor inputIds, LogitScale scale) {
        Tensor img;
        Tensor txt;
        try (PointerScope scope = new PointerScope()) {
            img = imageEmbeds(pixelValues).retainReference();
            txt = textEmbeds(inputIds).retainReference();
        }
        try {
            return scoresFromEmbeds(img, txt, scale);
        } finally {
            img.close();
            txt.close();
        }
    }

    /**
     * Zero-shot scores from precomputed embeddings (e.g. text embeddings computed once for many images).
     *
     * @param imageEmbeds [n,p] unnormalised image embeddings
     * @param textEmbeds  [m,p] unnormalised text embeddings
     * @param scale       the temperature
     * @return the scores (copies of the embeddings included), owned by the caller
     * @throws IllegalArgumentException if the widths differ or a tensor is not 2-D
     */
    public ClipScores scoresFromEmbeds(Tensor imageEmbeds, Tensor textEmbeds, LogitScale scale) {
        if (imageEmbeds.dim() != 2 || textEmbeds.dim() != 2 || imageEmbeds.size(1) != textEmbeds.size(1)) {
            throw new IllegalArgumentException("embeddings must be [n,p] and [m,p], got "
                    + Tensors.shapeString(imageEmbeds) + " and " + Tensors.shapeString(textEmbeds));
        }
        double value = scale == LogitScale.FIXED_100 ? 100.0 : Math.exp(logitScale);
        ClipScores result;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor img = imageEmbeds.to(vision.device(), vision.dtype());
            Tensor txt = textEmbeds.to(vision.device(), vision.dtype());
            Tensor imgN = img.div(img.norm(new ScalarOptional(new Scalar(2.0)), new long[] {-1}, true));
            Tensor txtN = txt.div(txt.norm(new ScalarOptional(new Scalar(2.0)), new long[] {-1}, true));
            Tensor cos = imgN.matmul(txtN.t());
            Tensor logits;
            if (scale == LogitScale.FIXED_100) {
                // ReFACT / OpenCLIP: (100.0 * image_features @ text_features.T)
                logits = imgN.mul(new Scalar(100.0)).matmul(txtN.t());
            } else {
                // HF: logits_per_text = (text_embeds @ image_embeds.t()) * logit_scale.exp(); per_image = its .t()
                Tensor s = Tensors.floats(new float[] {(float) logitScale}, vision.device()).exp().to(img.scalar_type());
                logits = txtN.matmul(imgN.t()).mul(s).t();
            }
            Tensor probs = logits.softmax(-1);
            result = new ClipScores(img.clone().retainReference(), txt.clone().retainReference(),
                    cos.retainReference(), logits.contiguous().retainReference(), probs.retainReference(), scale,
                    value);
        }
        return Tensors.handOffOwner(result);
    }

    /** A one-line description for logs. */
    @Override
    public String toString() {
        return "ClipModel[" + text + ", " + vision + ", logit_scale " + logitScale + "]";
    }

    @Override
    public void close() {
        text.close();
        vision.close();
    }
}
