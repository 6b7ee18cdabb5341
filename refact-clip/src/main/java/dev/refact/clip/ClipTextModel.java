package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.Checkpoints;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A CLIP text encoder with Hugging Face {@code CLIPTextModel} semantics (optionally
 * {@code CLIPTextModelWithProjection}), on libtorch, with the hooks a model editor needs.
 *
 * <p>Architecture: token + position embeddings; L pre-LN layers with causal self-attention and an
 * MLP {@code fc2(act(fc1(ln2(h))))} ({@code quick_gelu} or {@code gelu}); {@code final_layer_norm};
 * pooled output at the first end token; optional {@code text_projection} (no bias).
 *
 * <p>Loading: {@link #load(Path, int, Device, ScalarType)} detects the layout from the content: diffusers
 * roots and {@code text_encoder/} folders, CLIPModel folders, SDXL roots, and single-file SD 1.x / SD 2.x / SDXL
 * checkpoints (mapped to HF names; configs inferred from shapes). Weights of any float dtype load into the
 * compute dtype (float32 by default). Pickle checkpoints are refused. {@link #save(Path)} writes a folder, or the
 * loaded single file back in its own layout. See {@code docs/interop.md}.
 *
 * <p>Editing hooks: {@link #traceMlp} (fc2 input and output at a layer, running only the layers up
 * to it), {@link #forwardFrom} (continue from a layer's output; differentiable), {@link #parameter}
 * and the in-place weight changes {@link #applyRankOneUpdate}, {@link #applyLowRankUpdate} and
 * {@link #replaceParameter}, journalled so that {@link #fingerprint()} always identifies the current weights and
 * {@link #undo} restores them bit for bit ({@link #journalBytes()}: what the journal holds).
 *
 * <p>Threading: forward passes may run concurrently; weight changes are serialised by the edit claim
 * ({@link #claimForEdit()}): a change while another thread holds it fails fast with
 * {@code IllegalStateException("... is being edited by another thread")}.
 *
 * <p>Memory: the model owns its weights privately; {@link #close()} frees them, after which every method throws
 * {@code IllegalStateException("ClipTextModel ... is closed")}. The array-level {@link #encode(ClipTokenizer, String)}
 * returns plain arrays. Engine-level methods make their temporaries in a private {@code PointerScope}; what they
 * return (tensors, and {@link TextEncoding} / {@link MlpTrace} / {@link SuffixCache} as one unit each) belongs to
 * the caller's innermost open scope ({@link TensorScope}), or to the caller when none is open
 * ({@link Tensors#handOff}, {@link Tensors#handOffOwner}).
 *
 * <p>Identity: {@link #fingerprint()} hashes the weights' content, so equal weights have equal fingerprints.
 */
public final class ClipTextModel implements AutoCloseable {
    /** Names of tensors a checkpoint may carry that the model does not use. */
    private static final java.util.function.Predicate<String> IGNORABLE =
            n -> n.endsWith("position_ids");

    private final ClipTextConfig config;
    private final ParameterStore params;
    private final Tensor tokenEmbedding;
    private final Tensor positionEmbedding;
    private final Tensor finalLnW;
    private final Tensor finalLnB;
    private final Tensor projection;
    private final ClipEncoderLayer[] layers;
    private final Device device;
    private final ScalarType dtype;
    private final String source;
    /** Where the weights came from (null for generated models); used to write them back in the input's layout. */
    private final TextEncoderCheckpoint origin;
    private final List<Change> journal = new ArrayList<>();
    private final java.util.Map<String, Tensor> originals = new java.util.HashMap<>();
    private String baseFingerprint;
    private String fingerprint;                                          // cached content hash, null when stale
    private final java.util.Map<String, byte[]> parameterDigests = new java.util.HashMap<>();
    private final java.util.concurrent.locks.ReentrantLock editLock = new java.util.concurrent.locks.ReentrantLock();
    private volatile boolean closed;
    /** Change ids recorded in the loaded weights file: changes applied before the model was saved. */
    private final List<String> inheritedChanges = new ArrayList<>();
    /** Weights-file metadata key listing the applied change ids (a JSON array). */
    static final String CHANGES_METADATA = "refact.changes";
    private static final System.Logger LOG = System.getLogger(ClipTextModel.class.getName());

    ClipTextModel(ClipTextConfig config, ParameterStore params, String prefix, Device device,
                  ScalarType dtype, String source, TextEncoderCheckpoint origin) throws CheckpointFormatException {
        this.origin = origin;
        this.params = params;
        this.device = device;
        this.dtype = dtype;
        this.source = source;
        int d = config.hiddenSize();
        tokenEmbedding = params.require(prefix + "embeddings.token_embedding.weight", config.vocabSize(), d);
        positionEmbedding = params.require(prefix + "embeddings.position_embedding.weight",
                config.maxPositionEmbeddings(), d);
        layers = new ClipEncoderLayer[config.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new ClipEncoderLayer(params, prefix + "encoder.layers." + i + ".", d,
                    config.numAttentionHeads(), config.intermediateSize(), config.layerNormEps(),
                    config.hiddenAct(), true);
        }
        finalLnW = params.require(prefix + "final_layer_norm.weight", d);
        finalLnB = params.require(prefix + "final_layer_norm.bias", d);
        Tensor proj = params.optional("text_projection.weight");
        ClipTextConfig cfg = config;
        if (proj != null) {
            // projection_dim must be the projection's first dimension: taken from the tensor when the config has
            // none (0), so that config() and the saved config.json describe the weights
            long[] s = Tensors.shape(proj);
            int p = config.projectionDim();
            if (s.length != 2 || s[1] != d || s[0] < 1 || s[0] > Integer.MAX_VALUE || (p > 0 && s[0] != p)) {
                params.problem("tensor 'text_projection.weight' has shape " + Arrays.toString(s) + ", expected ["
                        + (p > 0 ? String.valueOf(p) : "projection_dim") + ", " + d + "] (projection_dim "
                        + (p > 0 ? p : "unset") + ", hidden_size " + d + ")");
            } else if (p == 0) {
                cfg = config.withProjectionDim((int) s[0]);
            }
        }
        this.config = cfg;
        projection = proj;
        params.checkComplete(IGNORABLE.or(n -> !n.startsWith(prefix) && !n.equals("text_projection.weight")));
    }

    // ------------------------------------------------------------------ loading

    /**
     * Loads in float32 on CPU. See {@link #load(Path, Device, ScalarType)}.
     *
     * @param path a checkpoint folder or single file (layout detected from its tensor names)
     * @return the model, owned by the caller (close it)
     * @throws IOException if a file cannot be read, or a {@link CheckpointFormatException} for an invalid or
     *                     unsupported checkpoint
     */
    public static ClipTextModel load(Path path) throws IOException {
        TorchRuntime.ensureLoaded();
        try (Device cpu = Tensors.cpu()) {
            return load(path, cpu, torch.ScalarType.Float);
        }
    }

    /**
     * Loads a text encoder onto a device named by a string, in a dtype named by a string: no JavaCPP types needed.
     *
     * @param device {@code cpu}, {@code cuda} or {@code cuda:N}
     * @param dtype  {@code float32}, {@code float16} or {@code bfloat16}
     * @throws IllegalArgumentException for an unknown device or dtype, or CUDA without a CUDA build
     * @throws CheckpointFormatException as {@link #load(Path, Device, ScalarType)}
     * @param path a diffusers root or a folder with the text encoder and tokenizer
     * @return the model (owned by the caller)
     */
    public static ClipTextModel load(Path path, String device, String dtype) throws IOException {
        ScalarType type = switch (dtype.trim().toLowerCase(Locale.ROOT)) {
            case "float32", "float", "f32", "fp32" -> torch.ScalarType.Float;
            case "float16", "half", "f16", "fp16" -> torch.ScalarType.Half;
            case "bfloat16", "bf16" -> torch.ScalarType.BFloat16;
            default -> throw new IllegalArgumentException("unknown dtype '" + dtype
                    + "': use float32, float16 or bfloat16");
        };
        try (Device d = Tensors.device(device)) {
            return load(path, d, type);
        }
    }

    /**
     * Loads a text encoder (for SDXL checkpoints, the first one). See {@link #load(Path, int, Device, ScalarType)}.
     *
     * @param path         a checkpoint folder or single file (layout detected from its tensor names)
     * @param device       where the weights live (the caller keeps ownership of the Device object)
     * @param computeDtype Float (default), Half or BFloat16; float weights of any stored dtype are converted
     * @return the model (SDXL: its first encoder), owned by the caller (close it)
     * @throws CheckpointFormatException for a missing/invalid config or weights, pickle files, and
     *                                   missing, unexpected or mis-shaped tensors (all listed by name)
     * @throws IOException if a file cannot be read
     */
    public static ClipTextModel load(Path path, Device device, ScalarType computeDtype) throws IOException {
        return load(path, 1, device, computeDtype);
    }

    /**
     * Loads text encoder {@code encoder} of a checkpoint whose layout is detected from its content (never its
     * file name): a diffusers root or {@code text_encoder/} folder, a CLIPModel folder, an SDXL root
     * ({@code text_encoder/} + {@code text_encoder_2/}), an HF {@code text_model.*} file, or a single-file
     * checkpoint of SD 1.x ({@code cond_stage_model.transformer.*}), SD 2.x (OpenCLIP
     * {@code cond_stage_model.model.*}, built without its last block as diffusers does) or SDXL
     * ({@code conditioner.embedders.0/1.*}). Without a {@code config.json} the architecture is inferred from the
     * tensor shapes (heads = width / 64). See {@code docs/interop.md}.
     *
     * @param path         a checkpoint folder or single file
     * @param encoder      1, or 2 for SDXL's second (OpenCLIP bigG, projected) encoder
     * @param device       where the weights live (the caller keeps ownership of the Device object)
     * @param computeDtype Float (default), Half or BFloat16; float weights of any stored dtype are converted
     * @return the model, owned by the caller (close it)
     * @throws CheckpointFormatException naming the file and the missing or unexpected keys when the layout
     *                                   does not fit, and for pickle files
     * @throws IllegalArgumentException  if {@code encoder} is not 1 or 2
     * @throws IOException if a file cannot be read
     */
    public static ClipTextModel load(Path path, int encoder, Device device, ScalarType computeDtype)
            throws IOException {
        TorchRuntime.ensureLoaded();
        TextEncoderCheckpoint ck = TextEncoderCheckpoint.resolve(path, encoder);
        ParameterStore store = ck.read(device, computeDtype);
        Device owned = ownedDevice(device);
        ClipTextModel model = null;
        try {
            model = new ClipTextModel(ck.config(), store, "text_model.", owned, computeDtype, ck.sourceName(), ck);
            model.inheritedChanges.addAll(savedChanges(ck.isSingleFile() ? List.of(ck.weights())
                    : Checkpoints.weightFiles(ck.weights())));
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded text encoder " + ck.weights() + " (" + ck.layoutName()
                    + ") as " + computeDtype + ": " + ck.config().numHiddenLayers() + " layers × "
                    + ck.config().hiddenSize());
            return model;
        } catch (IOException | RuntimeException e) {
            if (model != null) {
                model.close();           // its weights and its device
            } else {
                store.close();
                owned.close();
            }
            throw e;
        }
    }

    /** The change ids a model saved by {@link #save} recorded in its weights file ({@code refact.changes}). */
    private static List<String> savedChanges(List<Path> files) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            try (dev.refact.clip.io.SafetensorsFile sf = dev.refact.clip.io.SafetensorsFile.open(f)) {
                String json = sf.metadata().get(CHANGES_METADATA);
                if (json != null) {
                    try {
                        com.google.gson.JsonParser.parseString(json).getAsJsonArray()
                                .forEach(e -> out.add(e.getAsString()));
                    } catch (RuntimeException e) {
                        throw new CheckpointFormatException(f, "metadata " + CHANGES_METADATA
                                + " is not a JSON array of change ids: " + e.getMessage(), e);
                    }
                }
            }
        }
        return out;
    }

    /** A copy of {@code device} that belongs to no open scope (the model owns and closes it). */
    static Device ownedDevice(Device device) {
        Device d;
        try (PointerScope scope = new PointerScope()) {
            d = new Device(device.type(), device.index());
            d.retainReference();
        }
        return d;
    }

    /**
     * A model with seeded random weights (CPU, float32), for tests and benchmarks without downloads.
     * Each tensor is drawn from its own stream seeded by {@code seed} and its name, so the result does not
     * depend on creation order: LayerNorm weights 1+0.2·N(0,1), biases 0.1·N(0,1), embeddings 0.5·N(0,1)
     * (projection: N(0,1/d)), matrices N(0,1/fan_in). SD 2.x / SDXL shapes: {@link ClipTextConfig#SD2},
     * {@link ClipTextConfig#SDXL_2} (or smaller configs of the same family).
     *
     * @param config         the architecture; with {@code withProjection} its {@code projectionDim} (or d when 0) sizes
     *                       the projection
     * @param seed           the seed; equal seeds and configs give bit-identical weights
     * @param withProjection add {@code text_projection.weight} [projectionDim or d, d]
     * @return a float32 CPU model with {@link #source()} {@code random(seed=…)} and no {@link #family()}, owned by the
     *         caller (close it)
     */
    public static ClipTextModel random(ClipTextConfig config, long seed, boolean withProjection) {
        return RandomTextEncoder.create(config, seed, withProjection);
    }

    // ------------------------------------------------------------------ accessors

    /**
     * The architecture.
     *
     * @return the architecture, as read from {@code config.json} or inferred from the tensor shapes; with a
     *         projection, {@code projectionDim} is its width (taken from {@code text_projection.weight} when the
     *         config names none)
     */
    public ClipTextConfig config() {
        return config;
    }

    /**
     * The device holding the weights (owned by the model; do not close). Engine-level: JavaCPP type.
     *
     * @return the model's own copy of the load device (CPU for generated models)
     */
    public Device device() {
        checkOpen();
        return device;
    }

    /**
     * The compute dtype of the weights.
     *
     * @return Float, Half or BFloat16, as given to {@code load} (Float for generated models)
     */
    public ScalarType dtype() {
        return dtype;
    }

    /**
     * Whether the model has {@code text_projection} (then {@link TextEncoding#textEmbeds()} is set).
     *
     * @return true if {@code text_projection.weight} was loaded or generated
     */
    public boolean hasProjection() {
        return projection != null;
    }

    /**
     * Width of {@link #represent} output: projection width, or hidden width without a projection.
     *
     * @return p of the [p,d] projection, or d without one
     */
    public int representationDim() {
        return projection != null ? (int) projection.size(0) : config.hiddenSize();
    }

    /**
     * Where the model came from (folder, or the random seed).
     *
     * @return a description of the origin, e.g. the checkpoint path or {@code random(seed=42)}
     */
    public String source() {
        return source;
    }

    /**
     * The detected family (SD 1.x, SD 2.x, SDXL encoder 1 or 2), which fixes how prompts are padded; null for
     * generated models.
     *
     * @return the family, or null for a model made by {@link #random}
     */
    public TextEncoderFamily family() {
        return origin == null ? null : origin.family();
    }

    /** The checkpoint this model was loaded from, or null for generated models. */
    TextEncoderCheckpoint origin() {
        return origin;
    }

    /** Names of parameters that differ from the loaded weights because of applied changes. */
    java.util.Set<String> changedParameters() {
        return java.util.Set.copyOf(originals.keySet());
    }

    /** The store holding the weights (for the writers in this package). */
    ParameterStore store() {
        return params;
    }

    /**
     * The checkpoint name of layer {@code layer}'s fc2 weight, the matrix ReFACT edits.
     *
     * @param layer 0-based layer index (not checked against any model)
     * @return {@code text_model.encoder.layers.<layer>.mlp.fc2.weight}
     */
    public static String fc2WeightName(int layer) {
        return "text_model.encoder.layers." + layer + ".mlp.fc2.weight";
    }

    /**
     * The checkpoint name of layer {@code layer}'s fc2 bias.
     *
     * @param layer 0-based layer index (not checked against any model)
     * @return {@code text_model.encoder.layers.<layer>.mlp.fc2.bias}
     */
    public static String fc2BiasName(int layer) {
        return "text_model.encoder.layers." + layer + ".mlp.fc2.bias";
    }

    // ------------------------------------------------------------------ forward

    /**
     * Encodes one text as Stable Diffusion does (77 tokens: start, BPE ids cut so that the end token stays, end,
     * end-token padding) and returns float arrays: no native memory reaches the caller.
     *
     * <pre>{@code
     * EncodedText a = model.encode(tokenizer, "a photo of a cat");
     * EncodedText b = model.encode(tokenizer, "a photo of a kitten");
     * double similarity = a.cosineSimilarity(b);      // of the representations
     * float[] states = a.lastHiddenState();            // [77 × d], what the UNet consumes
     * }</pre>
     *
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if the tokenizer's ids fall outside this model's vocabulary
     * @throws IllegalStateException    if the model is closed
     * @param tokenizer its tokenizer
     * @param text the text
     * @return the encoding as plain arrays
     */
    public EncodedText encode(ClipTokenizer tokenizer, String text) {
        return encode(tokenizer, List.of(java.util.Objects.requireNonNull(text, "text"))).get(0);
    }

    /**
     * Encodes several texts in one batch; see {@link #encode(ClipTokenizer, String)}.
     *
     * @return one result per text, in order
     * @throws IllegalArgumentException if {@code texts} is empty or ids fall outside the vocabulary
     * @throws IllegalStateException    if the model is closed
     * @param tokenizer its tokenizer
     * @param texts the texts (at least one)
     */
    public List<EncodedText> encode(ClipTokenizer tokenizer, List<String> texts) {
        java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        checkOpen();
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("no texts to encode");
        }
        int n = config.maxPositionEmbeddings();
        long[][] ids = tokenizer.batch(texts, n, Padding.END_TOKEN);
        long[] flat = new long[texts.size() * n];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(ids[i], 0, flat, i * n, n);
        }
        int d = config.hiddenSize();
        int p = representationDim();
        float[] last;
        float[] pooled;
        float[] rep;
        try (PointerScope scope = new PointerScope()) {
            TextEncoding enc = encode(Tensors.longs(flat, device, texts.size(), n));  // closed by the scope
            last = Tensors.toFloats(enc.lastHiddenState());
            pooled = Tensors.toFloats(enc.pooled());
            // encode(Tensor) already applied text_projection when the model has one: the projected representation
            rep = Tensors.toFloats(enc.textEmbeds() != null ? enc.textEmbeds() : enc.pooled());
        }
        List<EncodedText> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            out.add(new EncodedText(texts.get(i), ids[i], d,
                    Arrays.copyOfRange(last, i * n * d, (i + 1) * n * d),
                    Arrays.copyOfRange(pooled, i * d, (i + 1) * d),
                    Arrays.copyOfRange(rep, i * p, (i + 1) * p)));
        }
        return out;
    }

    /**
     * Encodes token ids [b,n] (int64, any device) without per-layer outputs.
     *
     * @param inputIds [b,n] token ids, n ≤ max positions, any integer dtype (converted to int64)
     * @return last hidden state, pooled output and (with a projection) text embeddings, owned by the caller
     * @throws IllegalArgumentException for a wrong rank, too many positions or ids outside the vocabulary
     */
    public TextEncoding encode(Tensor inputIds) {
        return encode(inputIds, false);
    }

    /**
     * Runs the encoder without gradients.
     *
     * @param inputIds        [b,n] token ids, n ≤ max positions
     * @param withLayerOutputs also return every hidden state and every layer's fc2 input
     * @return outputs owned by the caller
     * @throws IllegalArgumentException for a wrong rank, too many positions or ids outside the vocabulary
     */
    public TextEncoding encode(Tensor inputIds, boolean withLayerOutputs) {
        checkOpen();
        checkIds(inputIds);
        TextEncoding result;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor ids = inputIds.to(device, torch.ScalarType.Long);
            List<Tensor> hidden = new ArrayList<>();
            List<Tensor> keys = new ArrayList<>();
            Tensor x = embed(ids);
            if (withLayerOutputs) {
                hidden.add(x);
            }
            for (ClipEncoderLayer layer : layers) {
                if (!withLayerOutputs) {
                    x = step(x, layer::forward);
                    continue;
                }
                Tensor h = layer.attentionResidual(x);
                Tensor key = layer.mlpKey(h);
                x = layer.mlpOutput(key);
                x.add_(h);
                keys.add(key);
                hidden.add(x);
            }
            Tensor last = finalNorm(x);
            Tensor pooled = pool(last, ids);
            Tensor embeds = projection == null ? null : torch.linear(pooled, projection);
            hidden.forEach(Tensor::retainReference);
            keys.forEach(Tensor::retainReference);
            result = new TextEncoding(last.retainReference(), pooled.retainReference(),
                    embeds == null ? null : embeds.retainReference(), hidden, keys);
        }
        return Tensors.handOffOwner(result);
    }

    /**
     * Runs the layers up to and including {@code layer}'s MLP and returns its residual input, fc2 input and
     * fc2 output for every position. No gradients. Later layers are not run.
     *
     * @param inputIds [b,n]
     * @param layer 0-based layer index, in [0, L)
     * @return residual, fc2 input [b,n,i] and fc2 output of {@code layer}, owned by the caller
     * @throws IllegalArgumentException for a layer outside [0, L)
     */
    public MlpTrace traceMlp(Tensor inputIds, int layer) {
        checkOpen();
        checkLayer(layer);
        checkIds(inputIds);
        MlpTrace trace;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = embed(inputIds.to(device, torch.ScalarType.Long));
            for (int i = 0; i < layer; i++) {
                x = step(x, layers[i]::forward);
            }
            Tensor h = layers[layer].attentionResidual(x);
            Tensor key = layers[layer].mlpKey(h);
            Tensor out = layers[layer].mlpOutput(key);
            trace = new MlpTrace(layer, h.retainReference(), key.retainReference(), out.retainReference());
        }
        return Tensors.handOffOwner(trace);
    }

    /**
     * Continues a forward pass from the output of layer {@code layer} (the residual stream after its MLP):
     * runs layers {@code layer+1..L-1} and the final LayerNorm. Differentiable with respect to
     * {@code layerOutput} when grad mode is on (the weights never require gradients).
     *
     * @param layer       0-based layer whose output {@code layerOutput} is, in [0, L); L-1 runs only the final
     *                    LayerNorm
     * @param layerOutput [b,n,d]
     * @return the last hidden state [b,n,d], owned by the caller
     */
    public Tensor forwardFrom(int layer, Tensor layerOutput) {
        checkOpen();
        checkLayer(layer);
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = layerOutput;
            for (int i = layer + 1; i < layers.length; i++) {
                Tensor in = x;
                x = step(x, layers[i]::forward);
                if (in != layerOutput) {
                    in.close();
                }
            }
            out = finalNorm(x).retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * Clean state for re-running the layers after {@code layer} on positions {@code start..} only: the keys and
     * values of positions {@code < start} at every later layer. Positions before {@code start} are unchanged by
     * anything added at or after {@code start} (causal attention), so a search that perturbs the residual stream at
     * positions ≥ start can call {@link #forwardSuffix} instead of {@link #forwardFrom}. No gradients.
     *
     * @param layer       0-based layer whose output {@code layerOutput} is, in [0, L)
     * @param layerOutput [b,n,d] the clean output of {@code layer}
     * @param start       first position that will change (0 &lt; start &lt; n)
     * @return the keys and values of positions {@code < start} for layers {@code layer+1..L-1}, owned by the caller
     * @throws IllegalArgumentException for a layer outside [0, L) or {@code start} outside [1, n)
     */
    public SuffixCache suffixCache(int layer, Tensor layerOutput, int start) {
        checkOpen();
        checkLayer(layer);
        long n = layerOutput.size(1);
        if (start < 1 || start >= n) {
            throw new IllegalArgumentException("suffix start " + start + " must be in [1, " + n + ")");
        }
        List<Tensor> kv = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = layerOutput.narrow(1, 0, start).detach();
            for (int i = layer + 1; i < layers.length; i++) {
                Tensor[] pair = layers[i].keysValues(x);
                kv.add(pair[0].contiguous().retainReference());
                kv.add(pair[1].contiguous().retainReference());
                if (i + 1 < layers.length) {
                    x = layers[i].forward(x);
                }
            }
        }
        return Tensors.handOffOwner(new SuffixCache(layer, start, kv));
    }

    /**
     * Runs layers {@code layer+1..L-1} and the final LayerNorm on the rows from {@code cache.start()} on:
     * {@code suffix} [b,n−start,d] is the layer output at those positions. Differentiable with respect to
     * {@code suffix}. Returns [b,n−start,d], equal (up to rounding) to the same rows of {@link #forwardFrom}.
     *
     * @param cache made by {@link #suffixCache} on this model from the clean layer output
     * @param suffix [b,n−start,d] layer output at positions {@code start..n-1}, same device and dtype as the model
     * @return [b,n−start,d] last hidden state of those positions, owned by the caller
     */
    public Tensor forwardSuffix(SuffixCache cache, Tensor suffix) {
        checkOpen();
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor mask = ClipEncoderLayer.suffixMask(cache.start(), suffix.size(1), suffix.device());
            Tensor x = suffix;
            for (int i = cache.layer() + 1, j = 0; i < layers.length; i++, j += 2) {
                Tensor k = cache.tensors().get(j);
                Tensor v = cache.tensors().get(j + 1);
                ClipEncoderLayer l = layers[i];
                Tensor in = x;
                x = step(x, t -> l.forwardSuffix(t, k, v, mask));
                if (in != suffix) {
                    in.close();
                }
            }
            out = finalNorm(x).retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * The pooled output: rows of {@code lastHidden} [b,n,d] at the first end token of each prompt
     * (argmax of the ids for the legacy {@code eos_token_id = 2} configs, as HF does). Returns [b,d].
     *
     * @param lastHidden [b,n,d] last hidden state (after the final LayerNorm)
     * @param inputIds [b,n] the token ids that produced it (any device and integer dtype)
     * @return [b,d] pooled output, on the device and in the dtype of {@code lastHidden}, owned by the caller
     */
    public Tensor pool(Tensor lastHidden, Tensor inputIds) {
        checkOpen();
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor ids = inputIds.to(lastHidden.device(), torch.ScalarType.Long);
            Tensor pos;
            if (config.eosTokenId() == 2) {
                pos = ids.argmax(new LongOptional(-1), false);
            } else {
                pos = ids.eq(new Scalar(config.eosTokenId())).to(torch.ScalarType.Int)
                        .argmax(new LongOptional(-1), false);
            }
            long b = lastHidden.size(0);
            Tensor rows = torch.arange(new Scalar(b), Tensors.options(torch.ScalarType.Long, lastHidden.device()));
            Tensor flat = lastHidden.reshape(-1, lastHidden.size(2));
            Tensor index = rows.mul(new Scalar(lastHidden.size(1))).add(pos);
            out = flat.index_select(0, index).retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * The representation ReFACT compares: {@code text_projection(pooled)} when the model has a projection
     * and {@code projected} is true, else the pooled output itself (a new tensor either way). [b,p] or [b,d].
     *
     * @param pooled [b,d] pooled output, as {@link #pool} gives
     * @param projected whether to apply {@code text_projection} (ignored without one)
     * @return [b,p] or [b,d], owned by the caller
     */
    public Tensor represent(Tensor pooled, boolean projected) {
        checkOpen();
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor r = projected && projection != null ? torch.linear(pooled, projection) : pooled.mul(new Scalar(1.0));
            out = r.retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * Runs {@code f} (one layer) in its own scope, so that its temporaries are freed as soon as it returns (peak
     * memory: one layer's activations, not all layers'), and hands the result to the caller's open scope. With
     * autograd on, the graph keeps what the backward pass needs regardless.
     */
    private static Tensor step(Tensor x, java.util.function.UnaryOperator<Tensor> f) {
        Tensor out;
        try (PointerScope inner = new PointerScope()) {
            out = f.apply(x).retainReference();
        }
        return Tensors.handOff(out);
    }

    private Tensor embed(Tensor ids) {
        long n = ids.size(1);
        Tensor tok = torch.embedding(tokenEmbedding, ids);
        Tensor pos = positionEmbedding.narrow(0, 0, n);
        return tok.add(pos);
    }

    private Tensor finalNorm(Tensor x) {
        return torch.layer_norm(x, new long[] {config.hiddenSize()}, new TensorOptional(finalLnW),
                new TensorOptional(finalLnB), config.layerNormEps(), false);
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers.length) {
            throw new IllegalArgumentException("layer " + layer + " is outside [0, " + layers.length + ")");
        }
    }

    private void checkIds(Tensor ids) {
        if (ids.dim() != 2) {
            throw new IllegalArgumentException("input ids must be [batch, tokens], got " + Tensors.shapeString(ids));
        }
        long n = ids.size(1);
        if (n < 1 || n > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("input ids have " + n + " positions; the model takes 1.."
                    + config.maxPositionEmbeddings());
        }
        if (ids.size(0) < 1) {
            throw new IllegalArgumentException("input ids have an empty batch");
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor l = ids.to(torch.ScalarType.Long);
            long min = l.min().item_long();
            long max = l.max().item_long();
            if (min < 0 || max >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + (min < 0 ? min : max) + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    // ------------------------------------------------------------------ weights

    /**
     * Names of all parameters, in checkpoint order.
     *
     * @return a new list of the names the architecture uses (unused tensors such as {@code position_ids}
     *         excluded)
     */
    public List<String> parameterNames() {
        checkOpen();
        return params.usedNames();
    }

    /**
     * The live parameter tensor (owned by the model: do not close, do not modify; use
     * {@link #replaceParameter}). Engine-level and unsafe (a live native tensor, invalid after {@link #close()});
     * users read weights with {@link #parameterValues} and {@link #parameterShape}.
     *
     * @param name the parameter's checkpoint name, e.g. {@link #fc2WeightName(int)}
     * @return the live tensor, in the model's dtype on its device (owned by the model)
     * @throws IllegalArgumentException for an unknown name
     * @throws IllegalStateException    if the model is closed
     * @deprecated returns a live internal tensor; use {@link #parameterValues(String)} (a copy)
     */
    @Deprecated
    public Tensor parameter(String name) {
        checkOpen();
        return params.get(name);
    }

    /**
     * A copy of a parameter's values as float32, row-major (e.g. {@code fc2.weight} [d,i] gives d·i floats).
     *
     * @throws IllegalArgumentException for an unknown name
     * @throws IllegalStateException    if the model is closed
     * @param name the parameter's checkpoint name
     * @return a copy of the values
     */
    public float[] parameterValues(String name) {
        checkOpen();
        return Tensors.toFloats(params.get(name));
    }

    /**
     * The shape of a parameter, e.g. {@code [768, 3072]} for an SD 1.x {@code fc2.weight}.
     *
     * @throws IllegalArgumentException for an unknown name
     * @throws IllegalStateException    if the model is closed
     * @param name the parameter's checkpoint name
     * @return the shape
     */
    public long[] parameterShape(String name) {
        checkOpen();
        return Tensors.shape(params.get(name));
    }

    /**
     * A copy of a parameter in the model's compute dtype on the model's device, owned by the caller.
     *
     * @param name the parameter's checkpoint name
     * @return a new tensor of the parameter's shape, owned by the caller
     * @throws IllegalArgumentException for an unknown name
     */
    public Tensor copyOfParameter(String name) {
        checkOpen();
        Tensor out;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            out = params.get(name).clone().retainReference();
        }
        return Tensors.handOff(out);
    }

    /**
     * Overwrites a parameter in place with {@code value} (copied, converted to the model's dtype and
     * device) and records the change as {@code changeId}.
     *
     * @param name the parameter's checkpoint name
     * @param value the new values, of the parameter's exact shape (any device and dtype; not kept)
     * @param changeId a non-blank id not yet applied to this model, for {@link #changes()} and {@link #undo}
     * @throws IllegalArgumentException for an unknown name, a shape mismatch, a non-finite value or a
     *                                  duplicate change id; the weights are unchanged then
     */
    public void replaceParameter(String name, Tensor value, String changeId) {
        try (EditClaim claim = claimForEdit()) {
            replaceParameterClaimed(name, value, changeId);
        }
    }

    private void replaceParameterClaimed(String name, Tensor value, String changeId) {
        checkNewChange(changeId);
        Tensor target = params.get(name);
        requireSameShape(name, target, value);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor v = value.to(device, dtype).clone();
            requireFinite(name, v);
            keepOriginal(name);
            target.copy_(v);
            journal.add(new Change(changeId, name, v.retainReference(), null));
            weightsChanged(name);
        }
    }

    /**
     * Adds the rank-one matrix {@code r uᵀ} to the weight {@code name} ([out,in]) in place: the ROME/ReFACT
     * update {@code W ← W + r uᵀ}, recorded as {@code changeId}.
     *
     * @param name     a 2-D parameter's checkpoint name, e.g. {@link #fc2WeightName(int)}
     * @param r        [out] (e.g. 768 for an SD fc2 weight)
     * @param u        [in] (e.g. 3072)
     * @param changeId a non-blank id not yet applied to this model, for {@link #changes()} and {@link #undo}
     * @throws IllegalArgumentException for an unknown name, vectors of the wrong length, non-finite values,
     *                                  a result that would not be finite, or a duplicate change id; the
     *                                  weights are unchanged then
     */
    public void applyRankOneUpdate(String name, Tensor r, Tensor u, String changeId) {
        try (EditClaim claim = claimForEdit()) {
            applyRankOneUpdateClaimed(name, r, u, changeId);
        }
    }

    private void applyRankOneUpdateClaimed(String name, Tensor r, Tensor u, String changeId) {
        checkNewChange(changeId);
        Tensor w = params.get(name);
        long[] ws = Tensors.shape(w);
        if (ws.length != 2 || r.dim() != 1 || u.dim() != 1 || r.size(0) != ws[0] || u.size(0) != ws[1]) {
            throw new IllegalArgumentException("rank-one update of '" + name + "' " + Arrays.toString(ws)
                    + " needs r [" + (ws.length == 2 ? ws[0] : "?") + "] and u [" + (ws.length == 2 ? ws[1] : "?")
                    + "], got r " + Tensors.shapeString(r) + " and u " + Tensors.shapeString(u));
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor rr = r.detach().to(device, dtype).clone();
            Tensor uu = u.detach().to(device, dtype).clone();
            requireFinite("r", rr);
            requireFinite("u", uu);
            Tensor updated = w.add(torch.outer(rr, uu));
            requireFinite(name + " after the update", updated);
            keepOriginal(name);
            w.copy_(updated); // bitwise the same as w.add_(outer(r, u)), which undo replays
            journal.add(new Change(changeId, name, rr.retainReference(), uu.retainReference()));
            weightsChanged(name);
        }
    }

    /**
     * Adds the rank-k matrix {@code rᵀ u} = Σ_i r_i u_iᵀ to the weight {@code name} ([out,in]) in place: a joint
     * edit's update {@code W ← W + Σ_i r_i u_iᵀ}, recorded as {@code changeId}. The sum is formed in float64 and
     * added to the weight in float64, then rounded once to the weight's dtype.
     *
     * <p>The undo journal keeps the factors (k·(out+in) float32 values) rather than a copy of the weight when that
     * is smaller, i.e. for k &lt; out·in/(out+in) (614 for an SD 1.x fc2 weight): a sequence of joint or protected
     * edits then costs kilobytes per edit instead of the weight's size. Undo replays the same arithmetic, so it
     * stays exact.
     *
     * @param name     a 2-D parameter's checkpoint name, e.g. {@link #fc2WeightName(int)}
     * @param r        [k,out], any device and floating dtype (converted to float32; not kept)
     * @param u        [k,in], any device and floating dtype (converted to float32; not kept)
     * @param changeId a non-blank id not yet applied to this model, for {@link #changes()} and {@link #undo}
     * @throws IllegalArgumentException for an unknown name, factors of the wrong shape, non-finite values, a
     *                                  result that would not be finite, or a duplicate change id; the weights are
     *                                  unchanged then
     * @throws IllegalStateException    if the model is closed
     */
    public void applyLowRankUpdate(String name, Tensor r, Tensor u, String changeId) {
        try (EditClaim claim = claimForEdit()) {
            checkNewChange(changeId);
            Tensor w = params.get(name);
            long[] ws = Tensors.shape(w);
            if (ws.length != 2 || r.dim() != 2 || u.dim() != 2 || r.size(0) != u.size(0) || r.size(0) < 1
                    || r.size(1) != ws[0] || u.size(1) != ws[1]) {
                throw new IllegalArgumentException("rank-k update of '" + name + "' " + Arrays.toString(ws)
                        + " needs r [k, " + (ws.length == 2 ? ws[0] : "?") + "] and u [k, "
                        + (ws.length == 2 ? ws[1] : "?") + "] with the same k >= 1, got r " + Tensors.shapeString(r)
                        + " and u " + Tensors.shapeString(u));
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor rr = r.detach().to(device, torch.ScalarType.Float).clone();
                Tensor uu = u.detach().to(device, torch.ScalarType.Float).clone();
                requireFinite("r", rr);
                requireFinite("u", uu);
                Tensor updated = Change.lowRankSum(w, rr, uu);
                requireFinite(name + " after the update", updated);
                keepOriginal(name);
                w.copy_(updated);
                long k = rr.size(0);
                boolean factors = k * (ws[0] + ws[1]) < ws[0] * ws[1];
                journal.add(factors ? new Change(changeId, name, rr.retainReference(), uu.retainReference())
                        : new Change(changeId, name, updated.retainReference(), null));
                weightsChanged(name);
            }
        }
    }

    /**
     * Native memory the undo journal holds for {@link #changes()}: r and u of each rank-one update, the factors of
     * each {@link #applyLowRankUpdate} (or the weight, when smaller), the new values of each
     * {@link #replaceParameter}; not counting the one copy of each changed parameter as loaded.
     *
     * @return bytes, 0 right after loading
     * @throws IllegalStateException if the model is closed
     */
    public long journalBytes() {
        checkOpen();
        long bytes = 0;
        for (Change c : journal) {
            bytes += c.value().nbytes() + (c.u() == null ? 0 : c.u().nbytes());
        }
        return bytes;
    }

    /**
     * Undoes the most recent change, bit for bit: the parameter is restored from the copy kept at its first
     * change and the remaining changes of that parameter are replayed with the same operations.
     *
     * @param changeId the id of the most recent change since loading (see {@link #changes()})
     * @throws IllegalStateException if {@code changeId} is not the most recent change (undo later changes first)
     */
    public void undo(String changeId) {
        try (EditClaim claim = claimForEdit()) {
            undoClaimed(changeId);
        }
    }

    private void undoClaimed(String changeId) {
        if (journal.isEmpty() || !journal.get(journal.size() - 1).id().equals(changeId)) {
            throw new IllegalStateException("change " + changeId + " is not the most recent change of this model "
                    + "(changes, oldest first: " + changes() + "); undo the later changes first");
        }
        Change last = journal.remove(journal.size() - 1);
        String name = last.parameter();
        Tensor w = params.get(name);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            w.copy_(originals.get(name));
            for (Change c : journal) {
                if (c.parameter().equals(name)) {
                    c.replay(w);
                }
            }
        }
        last.close();
        weightsChanged(name);
        if (journal.stream().noneMatch(c -> c.parameter().equals(name))) {
            originals.remove(name).close();
        }
    }

    private void checkNewChange(String changeId) {
        if (changeId == null || changeId.isBlank()) {
            throw new IllegalArgumentException("change id is blank");
        }
        baseFingerprint(); // the base identity must be taken before the first change
        for (Change c : journal) {
            if (c.id().equals(changeId)) {
                throw new IllegalArgumentException("change id " + changeId + " is already applied to this model");
            }
        }
    }

    private void keepOriginal(String name) {
        if (!originals.containsKey(name)) {
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                originals.put(name, params.get(name).clone().retainReference());
            }
        }
    }

    private static void requireSameShape(String name, Tensor target, Tensor value) {
        long[] ts = Tensors.shape(target);
        long[] vs = Tensors.shape(value);
        if (!Arrays.equals(ts, vs)) {
            throw new IllegalArgumentException("cannot replace '" + name + "' of shape " + Arrays.toString(ts)
                    + " with a tensor of shape " + Arrays.toString(vs));
        }
    }

    private static void requireFinite(String what, Tensor t) {
        if (!dev.refact.clip.torch.Finite.all(t)) {
            throw new IllegalArgumentException("refusing to write non-finite values (" + what + ")");
        }
    }

    /**
     * One journal entry: a full replacement ({@code u == null}), a rank-one update ({@code value} r [out],
     * {@code u} [in]) or a rank-k update ({@code value} r [k,out], {@code u} [k,in], float32). Owns its tensors.
     */
    private record Change(String id, String parameter, Tensor value, Tensor u) implements AutoCloseable {
        void replay(Tensor w) {
            if (u == null) {
                w.copy_(value);
            } else if (u.dim() == 1) {
                w.add_(torch.outer(value, u));
            } else {
                w.copy_(lowRankSum(w, value, u));
            }
        }

        /** {@code W + rᵀu} in float64, rounded once to W's dtype: [out,in], in the caller's scope. */
        static Tensor lowRankSum(Tensor w, Tensor r, Tensor u) {
            return w.detach().to(torch.ScalarType.Double)
                    .add(r.to(torch.ScalarType.Double).t().mm(u.to(torch.ScalarType.Double)))
                    .to(w.scalar_type());
        }

        @Override
        public void close() {
            value.close();
            if (u != null) {
                u.close();
            }
        }
    }

    /**
     * Every change these weights carry, oldest first: those recorded in the loaded file (applied before it was
     * saved with {@link #save}; they cannot be undone here), then {@link #changes()}.
     *
     * @throws IllegalStateException if the model is closed
     * @return the change ids, oldest first
     */
    public List<String> appliedChanges() {
        checkOpen();
        List<String> all = new ArrayList<>(inheritedChanges);
        all.addAll(changes());
        return List.copyOf(all);
    }

    /**
     * The changes applied since loading, oldest first (undoable with {@link #undo}).
     *
     * @return an unmodifiable list of the change ids, oldest first (empty right after loading)
     */
    public List<String> changes() {
        checkOpen();
        return journal.stream().map(Change::id).toList();
    }

    /**
     * The {@link #fingerprint()} of the weights before the first change (as loaded or generated). Taken at the
     * latest when the first change is applied.
     *
     * @return 64 lower-case hex digits (SHA-256)
     */
    public synchronized String baseFingerprint() {
        checkOpen();
        if (baseFingerprint == null) {
            baseFingerprint = fingerprint();
        }
        return baseFingerprint;
    }

    /**
     * Identifies the current weights by content: SHA-256 (hex) over every used parameter, in name order, of
     * the SHA-256 of its name, shape and float32 values. Two models with the same weights (for example an edited
     * model and the same model saved in float32 and loaded again) have the same fingerprint; undoing every change
     * restores the base fingerprint. Per-parameter hashes are cached, so after an edit only the changed parameter
     * is hashed again.
     *
     * @return 64 lower-case hex digits (SHA-256)
     * @throws IllegalStateException if the model is closed
     */
    public synchronized String fingerprint() {
        checkOpen();
        if (fingerprint == null) {
            long start = System.nanoTime();
            int hashed = 0;
            MessageDigest md = newDigest();
            for (String name : new java.util.TreeSet<>(params.usedNames())) { // sorted: files order names freely
                byte[] h = parameterDigests.get(name);
                if (h == null) {
                    h = hashParameter(name);
                    parameterDigests.put(name, h);
                    hashed++;
                }
                md.update(h);
            }
            fingerprint = dev.refact.clip.io.Sha256.hex(md);
            int n = hashed;
            String fp = fingerprint;
            LOG.log(System.Logger.Level.DEBUG, () -> String.format(Locale.ROOT,
                    "fingerprint of %s: %s (%d parameter(s) hashed in %.1f ms)", source, fp.substring(0, 12), n,
                    (System.nanoTime() - start) / 1e6));
        }
        return fingerprint;
    }

    /** Forgets the cached hash of {@code name} (its values changed). */
    private synchronized void weightsChanged(String name) {
        parameterDigests.remove(name);
        fingerprint = null;
    }

    private byte[] hashParameter(String name) {
        MessageDigest md = newDigest();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = params.get(name).to(Tensors.cpu(), torch.ScalarType.Float).contiguous();
            md.update(name.getBytes(StandardCharsets.UTF_8));
            md.update(Arrays.toString(Tensors.shape(t)).getBytes(StandardCharsets.UTF_8));
            ByteBuffer buf = t.data_ptr_float().capacity(t.numel()).asByteBuffer();
            md.update(buf);
        }
        return md.digest();
    }

    private static MessageDigest newDigest() {
        return dev.refact.clip.io.Sha256.newDigest();
    }

    /**
     * Writes the model. A path ending in {@code .safetensors} (not a folder) gets the loaded checkpoint back in
     * its own layout: every tensor keeps its bytes, dtype and order except the changed weights (in their stored
     * dtype), {@code __metadata__} is kept and provenance added; this needs a model loaded from one safetensors
     * file and refuses to overwrite that file. Any other path is written as a Hugging Face / diffusers
     * {@code text_encoder/} folder: {@code config.json} and {@code model.safetensors} with the same names and the
     * stored dtype each tensor came with (float32 for generated models); an existing folder's other files are
     * left alone. Writes are atomic (temporary file + rename).
     *
     * @param path a {@code .safetensors} file for the single-file layout, or a folder (created if needed)
     * @throws IOException              if writing fails (the target is then unchanged)
     * @throws IllegalArgumentException for single-file output of a generated or sharded model, or onto its input
     */
    public void save(Path path) throws IOException {
        checkOpen();
        TextEncoderWriter.save(this, path);
    }

    /**
     * The HF config JSON of this model: {@code CLIPTextModelWithProjection} with {@code projection_dim} when it has
     * a projection (the constructor makes {@code projectionDim} its width), else {@code CLIPTextModel}.
     */
    String configJson() {
        String json = config.toJson();
        if (projection == null) {
            json = json.replace("CLIPTextModelWithProjection", "CLIPTextModel");
        }
        return json;
    }

    /**
     * A one-line description for logs and JShell: layers × width, MLP width, activation, dtype, device, projection,
     * source, changes and the fingerprint prefix (when it has been computed; it is not computed for this).
     */
    @Override
    public String toString() {
        if (closed) {
            return "ClipTextModel[closed, " + source + "]";
        }
        String fp;
        synchronized (this) {
            fp = fingerprint == null ? "not computed" : fingerprint.substring(0, 12);
        }
        String dev;
        try (org.bytedeco.javacpp.BytePointer name = device.str()) {   // a new native string: freed here
            dev = name.getString();
        }
        return String.format(Locale.ROOT, "ClipTextModel[%d layers × %d, mlp %d, %s, %s on %s, projection %s, %s, "
                        + "%d change(s), fingerprint %s]",
                config.numHiddenLayers(), config.hiddenSize(), config.intermediateSize(), config.hiddenAct(),
                dtype.toString().toLowerCase(Locale.ROOT), dev,
                projection == null ? "none" : projection.size(0), source, journal.size(), fp);
    }

    // ------------------------------------------------------------------ edit claims and lifecycle

    /**
     * Held by the one thread that is changing the model's weights ({@link #claimForEdit()}); closing it releases
     * the claim.
     */
    public interface EditClaim extends AutoCloseable {
        /** Releases the claim (no checked exception). */
        @Override
        void close();
    }

    /**
     * Claims the model for one edit: while the claim is held, weight changes from other threads fail fast. The
     * claim is re-entrant (the holding thread may claim again, e.g. an editor applying a change), so an editor
     * claims the model for the whole computation and the weight change inside it.
     *
     * <pre>{@code
     * try (ClipTextModel.EditClaim claim = model.claimForEdit()) {
     *     ... compute, then model.applyRankOneUpdate(...)
     * }
     * }</pre>
     *
     * @throws IllegalStateException "model ... is being edited by another thread", or if the model is closed
     * @return the claim; close it to release
     */
    public EditClaim claimForEdit() {
        checkOpen();
        if (!editLock.tryLock()) {
            throw new IllegalStateException("model " + source + " is being edited by another thread; edits of one "
                    + "model must not overlap (edit models one thread at a time)");
        }
        return editLock::unlock;
    }

    /** {@return whether {@link #close()} has run} */
    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("ClipTextModel " + source + " is closed");
        }
    }

    /**
     * Frees the weights, the undo journal and the device (every pointer the model owned becomes null); later
     * calls of any method throw {@code IllegalStateException("... is closed")}. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        journal.forEach(Change::close);
        journal.clear();
        originals.values().forEach(Tensor::close);
        originals.clear();
        params.close();
        device.close();
        parameterDigests.clear();
    }
}
