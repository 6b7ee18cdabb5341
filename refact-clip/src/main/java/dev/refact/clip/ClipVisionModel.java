package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A CLIP vision tower with Hugging Face {@code CLIPVisionModel} semantics (plus
 * {@code visual_projection} when present), on libtorch.
 *
 * <p>Architecture (HF names): {@code vision_model.embeddings}: the image [b,3,S,S] cut into P×P
 * patches (row-major), each flattened in (channel, row, column) order and multiplied by
 * {@code patch_embedding.weight} [W,3,P,P] (the stride-P convolution, no bias); the learned
 * {@code class_embedding} [W] in front; {@code position_embedding} [T,W] added (row 0 = class
 * token). Then {@code pre_layrnorm} (HF's spelling), L pre-LN encoder layers with unmasked
 * self-attention (the same layer code as the text tower), {@code post_layernorm} on the class token
 * only (the pooled output), and {@code visual_projection} [p,W] without bias.
 *
 * <p>Memory: the model owns its weights; {@link #close()} frees them. Returned tensors follow the
 * library's hand-off rule ({@link Tensors#handOff}).
 */
public final class ClipVisionModel implements AutoCloseable {
    private static final String P = "vision_model.";

    private final ClipVisionConfig config;
    private final ParameterStore params;
    private final Tensor classEmbedding;
    private final Tensor patchWeight; // [W, 3*P*P]
    private final Tensor positionEmbedding;
    private final Tensor preLnW;
    private final Tensor preLnB;
    private final Tensor postLnW;
    private final Tensor postLnB;
    private final Tensor projection;
    private final ClipEncoderLayer[] layers;
    private final Device device;
    private final ScalarType dtype;
    private final String source;

    private ClipVisionModel(ClipVisionConfig config, ParameterStore params, Device device, ScalarType dtype,
            String source) throws CheckpointFormatException {
        this.config = config;
        this.params = params;
        this.device = device;
        this.dtype = dtype;
        this.source = source;
        int w = config.hiddenSize();
        int ps = config.patchSize();
        classEmbedding = params.require(P + "embeddings.class_embedding", w);
        Tensor conv = params.require(P + "embeddings.patch_embedding.weight", w, 3, ps, ps);
        positionEmbedding = params.require(P + "embeddings.position_embedding.weight", config.numPositions(), w);
        preLnW = params.require(P + "pre_layrnorm.weight", w);
        preLnB = params.require(P + "pre_layrnorm.bias", w);
        layers = new ClipEncoderLayer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new ClipEncoderLayer(params, P + "encoder.layers." + i + ".", w, config.numAttentionHeads(),
                    config.intermediateSize(), config.layerNormEps(), config.hiddenAct(), false);
        }
        postLnW = params.require(P + "post_layernorm.weight", w);
        postLnB = params.require(P + "post_layernorm.bias", w);
        Tensor proj = params.optional("visual_projection.weight");
        if (proj != null) {
            long[] s = Tensors.shape(proj);
            if (s.length != 2 || s[1] != w || (config.projectionDim() > 0 && s[0] != config.projectionDim())) {
                params.require("visual_projection.weight", config.projectionDim() > 0 ? config.projectionDim()
                        : (s.length == 2 ? s[0] : -1), w); // records the problem
            }
        }
        projection = proj;
        params.checkComplete(n -> n.endsWith("position_ids") || (!n.startsWith(P)
                && !n.equals("visual_projection.weight")));
        // A view of the convolution weight as a matrix, owned by this model (made in a private scope and
        // retained, so that a PointerScope open around load() does not free it).
        try (PointerScope scope = new PointerScope()) {
            patchWeight = conv.reshape(w, 3L * ps * ps).retainReference();
        }
    }

    /**
     * Loads in float32 on CPU. See {@link #load(Path, Device, ScalarType)}.
     *
     * @param path a CLIP(Vision)Model folder, or a {@code .safetensors} file beside its {@code config.json}
     * @return the loaded vision tower, owned by the caller (close it)
     * @throws IOException if a file cannot be read, or a {@link CheckpointFormatException} for an invalid checkpoint
     */
    public static ClipVisionModel load(Path path) throws IOException {
        TorchRuntime.ensureLoaded();
        try (Device cpu = Tensors.cpu()) {
            return load(path, cpu, torch.ScalarType.Float);
        }
    }

    /**
     * Loads a vision tower.
     *
     * @param path         a full CLIPModel folder ({@code config.json} + {@code model.safetensors}), a
     *                     CLIPVisionModel folder, or a {@code .safetensors} file beside its {@code config.json}
     * @param device       where the weights live (the caller keeps ownership of the Device object)
     * @param computeDtype Float (default), Half or BFloat16
     * @return the loaded vision tower, owned by the caller (close it)
     * @throws CheckpointFormatException for a missing/invalid config or weights, and missing, unexpected or
     *                                   mis-shaped tensors (all listed by name)
     * @throws IOException if the config or the weights cannot be read
     */
    public static ClipVisionModel load(Path path, Device device, ScalarType computeDtype) throws IOException {
        TorchRuntime.ensureLoaded();
        Path dir = folder(path);
        List<Path> files = Files.isRegularFile(path) ? List.of(path) : List.of(weights(dir));
        ClipVisionConfig config = ClipVisionConfig.read(dir.resolve("config.json"));
        ParameterStore store = ParameterStore.load(files,
                n -> n.startsWith(P) || n.equals("visual_projection.weight"), computeDtype, device);
        Device own;
        try (PointerScope scope = new PointerScope()) {
            own = new Device(device.type(), device.index()).retainReference();
        }
        try {
            return new ClipVisionModel(config, store, own, computeDtype, dir.toString());
        } catch (IOException | RuntimeException e) {
            store.close();
            own.close();
            throw e;
        }
    }

    static Path folder(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new CheckpointFormatException(path, "no such file or folder");
        }
        Path dir = Files.isRegularFile(path) ? path.toAbsolutePath().getParent() : path;
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new CheckpointFormatException(path, "not a CLIP model folder (no config.json)");
        }
        return dir;
    }

    static Path weights(Path dir) throws IOException {
        Path f = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(f)) {
            boolean pickle = Files.isRegularFile(dir.resolve("pytorch_model.bin"));
            throw new CheckpointFormatException(dir, pickle
                    ? "has only pytorch_model.bin (pickle), which refact-java does not load; convert it to "
                            + "model.safetensors"
                    : "no model.safetensors");
        }
        return f;
    }

    /**
     * The architecture.
     *
     * @return the parsed {@code vision_config}
     */
    public ClipVisionConfig config() {
        return config;
    }

    /**
     * The device holding the weights (owned by the model; do not close).
     *
     * @return the model's own copy of the load device
     */
    public Device device() {
        return device;
    }

    /**
     * The compute dtype of the weights.
     *
     * @return Float, Half or BFloat16, as given to {@code load}
     */
    public ScalarType dtype() {
        return dtype;
    }

    /**
     * Whether the model has {@code visual_projection}.
     *
     * @return true if {@code visual_projection.weight} was loaded
     */
    public boolean hasProjection() {
        return projection != null;
    }

    /**
     * Width of {@link VisionEncoding#imageEmbeds()}: the projection width (0 without a projection).
     *
     * @return p of the [p,W] projection, or 0 without one
     */
    public int projectionDim() {
        return projection == null ? 0 : (int) projection.size(0);
    }

    /**
     * Encodes without per-layer outputs. See {@link #encode(Tensor, boolean)}.
     *
     * @param pixelValues [b,3,S,S] float pixel values (any device and float dtype)
     * @return the encoding (no hidden states), owned by the caller
     */
    public VisionEncoding encode(Tensor pixelValues) {
        return encode(pixelValues, false);
    }

    /**
     * Runs the vision tower without gradients.
     *
     * @param pixelValues      [b,3,S,S] float (any device and float dtype), as {@code ClipImageProcessor}
     *                         makes them
     * @param withHiddenStates also return the embeddings and every hidden state
     * @return outputs owned by the caller
     * @throws IllegalArgumentException for a shape other than [b,3,S,S] with S = {@code image_size}
     */
    public VisionEncoding encode(Tensor pixelValues, boolean withHiddenStates) {
        checkPixels(pixelValues);
        VisionEncoding result;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = embed(pixelValues.to(device, dtype));
            Tensor emb = x;
            List<Tensor> hidden = new ArrayList<>();
            x = layerNorm(x, preLnW, preLnB);
            if (withHiddenStates) {
                hidden.add(x);
            }
            for (ClipEncoderLayer layer : layers) {
                x = layer.forward(x);
                if (withHiddenStates) {
                    hidden.add(x);
                }
            }
            Tensor pooled = layerNorm(x.select(1, 0), postLnW, postLnB); // [b,W]
            Tensor embeds = projection == null ? null : torch.linear(pooled, projection);
            hidden.forEach(Tensor::retainReference);
            result = new VisionEncoding(withHiddenStates ? emb.retainReference() : null, hidden, x.retainReference(),
                    pooled.retainReference(), embeds == null ? null : embeds.retainReference());
        }
        return Tensors.handOffOwner(result);
    }

    /** {@code [class ; patches·Wᵀ] + position}: [b,3,S,S] → [b,T,W]. */
    private Tensor embed(Tensor pixels) {
        long b = pixels.size(0);
        int g = config.gridSize();
        int ps = config.patchSize();
        int w = config.hiddenSize();
        // [b,3,g,P,g,P] → [b,g,g,3,P,P] → [b, g², 3·P·P]: patches row-major, each in (c, y, x) order.
        Tensor patches = pixels.reshape(b, 3, g, ps, g, ps).permute(0, 2, 4, 1, 3, 5)
                .reshape(b, (long) g * g, 3L * ps * ps);
        Tensor patchEmbeds = torch.linear(patches, patchWeight); // [b, g², W]
        Tensor cls = classEmbedding.reshape(1, 1, w).expand(b, 1, w);
        Tensor tokens = torch.cat(new TensorVector(cls, patchEmbeds), 1); // [b, T, W]
        return tokens.add(positionEmbedding);
    }

    private Tensor layerNorm(Tensor x, Tensor w, Tensor bias) {
        return torch.layer_norm(x, new long[] {config.hiddenSize()}, new TensorOptional(w), new TensorOptional(bias),
                config.layerNormEps(), false);
    }

    private void checkPixels(Tensor px) {
        int s = config.imageSize();
        if (px.dim() != 4 || px.size(1) != 3 || px.size(2) != s || px.size(3) != s || px.size(0) < 1) {
            throw new IllegalArgumentException("pixel values must be [batch, 3, " + s + ", " + s + "] for this model "
                    + "(image_size " + s + "), got " + Tensors.shapeString(px));
        }
        if (!px.is_floating_point()) {
            throw new IllegalArgumentException("pixel values must be floating point, got " + px.scalar_type());
        }
    }

    /** A one-line description for logs. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ClipVisionModel[%d layers × %d, image %d, patch %d, %s, projection %s, %s]",
                config.numHiddenLayers(), config.hiddenSize(), config.imageSize(), config.patchSize(),
                config.hiddenAct(), projection == null ? "none" : projection.size(0), source);
    }

    @Override
    public void close() {
        patchWeight.close();
        params.close();
        device.close();
    }
}
