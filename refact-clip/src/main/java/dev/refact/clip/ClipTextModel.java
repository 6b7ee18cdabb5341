package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.Checkpoints;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
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
 * <p>Loading: {@link #load(Path)} accepts a diffusers checkpoint root (uses {@code text_encoder/}), a
 * bare {@code text_encoder/} folder, a full {@code CLIPModel} folder (its text tower), or a single
 * {@code .safetensors} file next to its {@code config.json}. Weights of any float dtype load into the
 * compute dtype (float32 by default). Pickle checkpoints are refused.
 *
 * <p>Editing hooks: {@link #traceMlp} (fc2 input and output at a layer, running only the layers up
 * to it), {@link #forwardFrom} (continue from a layer's output; differentiable), {@link #parameter}
 * and {@link #replaceParameter} (in-place weight change, journalled so that {@link #fingerprint()}
 * always identifies the current weights).
 *
 * <p>Threading: forward passes may run concurrently; weight changes must not overlap with anything
 * else. Memory: the model owns its weights; {@link #close()} frees them. Every forward method makes
 * its temporaries in a private {@code PointerScope}; returned tensors (and {@link TextEncoding} /
 * {@link MlpTrace}) belong to the caller's innermost open {@code PointerScope}, or to the caller when
 * none is open (see {@link Tensors#handOff}).
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
    private final List<Change> journal = new ArrayList<>();
    private final java.util.Map<String, Tensor> originals = new java.util.HashMap<>();
    private String baseFingerprint;

    private ClipTextModel(ClipTextConfig config, ParameterStore params, String prefix, Device device,
                          ScalarType dtype, String source) throws CheckpointFormatException {
        this.config = config;
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
        if (proj != null) {
            long[] s = Tensors.shape(proj);
            if (s.length != 2 || s[1] != d) {
                params.require("text_projection.weight", s.length == 2 ? s[0] : -1, d); // records the problem
            }
        }
        projection = proj;
        params.checkComplete(IGNORABLE.or(n -> !n.startsWith(prefix) && !n.equals("text_projection.weight")));
    }

    // ------------------------------------------------------------------ loading

    /** Loads in float32 on CPU. See {@link #load(Path, Device, ScalarType)}. */
    public static ClipTextModel load(Path path) throws IOException {
        TorchRuntime.ensureLoaded();
        try (Device cpu = Tensors.cpu()) {
            return load(path, cpu, torch.ScalarType.Float);
        }
    }

    /**
     * Loads a text encoder.
     *
     * @param path         a diffusers root, a {@code text_encoder/} folder, a CLIPModel folder, or a
     *                     {@code .safetensors} file beside its {@code config.json}
     * @param device       where the weights live (the caller keeps ownership of the Device object)
     * @param computeDtype Float (default), Half or BFloat16; float weights of any stored dtype are converted
     * @throws CheckpointFormatException for a missing/invalid config or weights, pickle-only folders, and
     *                                   missing, unexpected or mis-shaped tensors (all listed by name)
     */
    public static ClipTextModel load(Path path, Device device, ScalarType computeDtype) throws IOException {
        TorchRuntime.ensureLoaded();
        Path dir = resolveFolder(path);
        List<Path> files = Files.isRegularFile(path) && path.toString().endsWith(".safetensors")
                ? List.of(path) : Checkpoints.weightFiles(dir);
        ClipTextConfig config = ClipTextConfig.read(dir.resolve("config.json"));
        ParameterStore store = ParameterStore.load(files,
                n -> n.startsWith("text_model.") || n.equals("text_projection.weight"), computeDtype, device);
        try {
            return new ClipTextModel(config, store, "text_model.", ownedDevice(device), computeDtype, dir.toString());
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** A copy of {@code device} that belongs to no open scope (the model owns and closes it). */
    private static Device ownedDevice(Device device) {
        Device d;
        try (PointerScope scope = new PointerScope()) {
            d = new Device(device.type(), device.index());
            d.retainReference();
        }
        return d;
    }

    /** Finds the folder holding the text encoder's {@code config.json}. */
    static Path resolveFolder(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new CheckpointFormatException(path, "no such file or folder");
        }
        if (Files.isRegularFile(path)) {
            Checkpoints.refusePickle(path);
            Path parent = path.toAbsolutePath().getParent();
            if (!Files.isRegularFile(parent.resolve("config.json"))) {
                throw new CheckpointFormatException(path, "no config.json beside the weights file");
            }
            return parent;
        }
        if (Files.isDirectory(path.resolve("text_encoder"))) {
            return path.resolve("text_encoder");
        }
        if (!Files.isRegularFile(path.resolve("config.json"))) {
            throw new CheckpointFormatException(path, "not a text encoder folder (no config.json and no "
                    + "text_encoder/ sub-folder)");
        }
        return path;
    }

    /**
     * A model with seeded random weights (CPU, float32), for tests and benchmarks without downloads.
     * Each tensor is drawn from its own stream seeded by {@code seed} and its name, so the result does not
     * depend on creation order: LayerNorm weights 1+0.2·N(0,1), biases 0.1·N(0,1), embeddings 0.5·N(0,1)
     * (projection: N(0,1/d)), matrices N(0,1/fan_in).
     *
     * @param withProjection add {@code text_projection.weight} [projectionDim or d, d]
     */
    public static ClipTextModel random(ClipTextConfig config, long seed, boolean withProjection) {
        TorchRuntime.ensureLoaded();
        ParameterStore store = new ParameterStore(Path.of("random(seed=" + seed + ")"));
        Device cpu;
        try (Device c = Tensors.cpu()) {
            cpu = ownedDevice(c);
        }
        try {
            int d = config.hiddenSize();
            int inter = config.intermediateSize();
            String p = "text_model.";
            randomTensor(store, seed, p + "embeddings.token_embedding.weight", 0.0, 0.5, cpu, config.vocabSize(), d);
            randomTensor(store, seed, p + "embeddings.position_embedding.weight", 0.0, 0.5, cpu,
                    config.maxPositionEmbeddings(), d);
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                String l = p + "encoder.layers." + i + ".";
                for (String ln : new String[] {"layer_norm1", "layer_norm2"}) {
                    randomTensor(store, seed, l + ln + ".weight", 1.0, 0.2, cpu, d);
                    randomTensor(store, seed, l + ln + ".bias", 0.0, 0.1, cpu, d);
                }
                for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                    randomTensor(store, seed, l + "self_attn." + proj + ".weight", 0.0, 1 / Math.sqrt(d), cpu, d, d);
                    randomTensor(store, seed, l + "self_attn." + proj + ".bias", 0.0, 0.1, cpu, d);
                }
                randomTensor(store, seed, l + "mlp.fc1.weight", 0.0, 1 / Math.sqrt(d), cpu, inter, d);
                randomTensor(store, seed, l + "mlp.fc1.bias", 0.0, 0.1, cpu, inter);
                randomTensor(store, seed, l + "mlp.fc2.weight", 0.0, 1 / Math.sqrt(inter), cpu, d, inter);
                randomTensor(store, seed, l + "mlp.fc2.bias", 0.0, 0.1, cpu, d);
            }
            randomTensor(store, seed, p + "final_layer_norm.weight", 1.0, 0.2, cpu, d);
            randomTensor(store, seed, p + "final_layer_norm.bias", 0.0, 0.1, cpu, d);
            ClipTextConfig cfg = config;
            if (withProjection) {
                int pd = config.projectionDim() > 0 ? config.projectionDim() : d;
                randomTensor(store, seed, "text_projection.weight", 0.0, 1 / Math.sqrt(d), cpu, pd, d);
                cfg = config.withProjectionDim(pd);
            }
            return new ClipTextModel(cfg, store, p, cpu, torch.ScalarType.Float, "random(seed=" + seed + ")");
        } catch (CheckpointFormatException | RuntimeException e) {
            store.close();
            cpu.close();
            throw new IllegalStateException("random model construction failed: " + e.getMessage(), e);
        }
    }

    private static void randomTensor(ParameterStore store, long seed, String name, double mean, double std,
                                     Device device, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        SplittableRandom rng = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (name.hashCode() + 1L)));
        float[] data = new float[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (mean + std * rng.nextGaussian());
        }
        Tensor t;
        try (PointerScope scope = new PointerScope()) {
            t = Tensors.floats(data, device, shape).retainReference();
        }
        store.put(name, t, DType.F32);
    }

    // ------------------------------------------------------------------ accessors

    /** The architecture. */
    public ClipTextConfig config() {
        return config;
    }

    /** The device holding the weights (owned by the model; do not close). */
    public Device device() {
        return device;
    }

    /** The compute dtype of the weights. */
    public ScalarType dtype() {
        return dtype;
    }

    /** Whether the model has {@code text_projection} (then {@link TextEncoding#textEmbeds()} is set). */
    public boolean hasProjection() {
        return projection != null;
    }

    /** Width of {@link #represent} output: projection width, or hidden width without a projection. */
    public int representationDim() {
        return projection != null ? (int) projection.size(0) : config.hiddenSize();
    }

    /** Where the model came from (folder, or the random seed). */
    public String source() {
        return source;
    }

    /** The checkpoint name of layer {@code layer}'s fc2 weight, the matrix ReFACT edits. */
    public static String fc2WeightName(int layer) {
        return "text_model.encoder.layers." + layer + ".mlp.fc2.weight";
    }

    /** The checkpoint name of layer {@code layer}'s fc2 bias. */
    public static String fc2BiasName(int layer) {
        return "text_model.encoder.layers." + layer + ".mlp.fc2.bias";
    }

    // ------------------------------------------------------------------ forward

    /** Encodes token ids [b,n] (int64, any device) without per-layer outputs. */
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
                if (withLayerOutputs) {
                    keys.add(key);
                    hidden.add(x);
                }
            }
            Tensor last = finalNorm(x);
            Tensor pooled = pool(last, ids);
            Tensor embeds = projection == null ? null : torch.linear(pooled, projection);
            hidden.forEach(Tensor::retainReference);
            keys.forEach(Tensor::retainReference);
            result = new TextEncoding(last.retainReference(), pooled.retainReference(),
                    embeds == null ? null : embeds.retainReference(), hidden, keys);
        }
        handOffAll(result.lastHiddenState(), result.pooled(), result.textEmbeds());
        result.hiddenStates().forEach(Tensors::handOff);
        result.mlpKeys().forEach(Tensors::handOff);
        return result;
    }

    /**
     * Runs the layers up to and including {@code layer}'s MLP and returns its residual input, fc2 input and
     * fc2 output for every position. No gradients. Later layers are not run.
     *
     * @param inputIds [b,n]
     * @throws IllegalArgumentException for a layer outside [0, L)
     */
    public MlpTrace traceMlp(Tensor inputIds, int layer) {
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
        handOffAll(trace.residual(), trace.key(), trace.output());
        return trace;
    }

    /**
     * Continues a forward pass from the output of layer {@code layer} (the residual stream after its MLP):
     * runs layers {@code layer+1..L-1} and the final LayerNorm. Differentiable with respect to
     * {@code layerOutput} when grad mode is on (the weights never require gradients).
     *
     * @param layerOutput [b,n,d]
     * @return the last hidden state [b,n,d], owned by the caller
     */
    public Tensor forwardFrom(int layer, Tensor layerOutput) {
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
     * @param layerOutput [b,n,d] the clean output of {@code layer}
     * @param start       first position that will change (0 &lt; start &lt; n)
     */
    public SuffixCache suffixCache(int layer, Tensor layerOutput, int start) {
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
        return new SuffixCache(layer, start, kv);
    }

    /**
     * Runs layers {@code layer+1..L-1} and the final LayerNorm on the rows from {@code cache.start()} on:
     * {@code suffix} [b,n−start,d] is the layer output at those positions. Differentiable with respect to
     * {@code suffix}. Returns [b,n−start,d], equal (up to rounding) to the same rows of {@link #forwardFrom}.
     */
    public Tensor forwardSuffix(SuffixCache cache, Tensor suffix) {
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
     */
    public Tensor pool(Tensor lastHidden, Tensor inputIds) {
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
     */
    public Tensor represent(Tensor pooled, boolean projected) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor r = projected && projection != null ? torch.linear(pooled, projection) : pooled.mul(new Scalar(1.0));
            out = r.retainReference();
        }
        return Tensors.handOff(out);
    }

    private static void handOffAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                Tensors.handOff(t);
            }
        }
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

    /** Names of all parameters, in checkpoint order. */
    public List<String> parameterNames() {
        return params.usedNames();
    }

    /**
     * The live parameter tensor (owned by the model: do not close, do not modify; use
     * {@link #replaceParameter}).
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public Tensor parameter(String name) {
        return params.get(name);
    }

    /** A copy of a parameter as float32 on the model's device, owned by the caller. */
    public Tensor copyOfParameter(String name) {
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
     * @throws IllegalArgumentException for an unknown name, a shape mismatch, a non-finite value or a
     *                                  duplicate change id; the weights are unchanged then
     */
    public void replaceParameter(String name, Tensor value, String changeId) {
        checkNewChange(changeId);
        Tensor target = params.get(name);
        requireSameShape(name, target, value);
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor v = value.to(device, dtype).clone();
            requireFinite(name, v);
            keepOriginal(name);
            target.copy_(v);
            journal.add(new Change(changeId, name, v.retainReference(), null));
        }
    }

    /**
     * Adds the rank-one matrix {@code r uᵀ} to the weight {@code name} ([out,in]) in place: the ROME/ReFACT
     * update {@code W ← W + r uᵀ}, recorded as {@code changeId}.
     *
     * @param r [out] (e.g. 768 for an SD fc2 weight)
     * @param u [in] (e.g. 3072)
     * @throws IllegalArgumentException for an unknown name, vectors of the wrong length, non-finite values,
     *                                  a result that would not be finite, or a duplicate change id; the
     *                                  weights are unchanged then
     */
    public void applyRankOneUpdate(String name, Tensor r, Tensor u, String changeId) {
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
        }
    }

    /**
     * Undoes the most recent change, bit for bit: the parameter is restored from the copy kept at its first
     * change and the remaining changes of that parameter are replayed with the same operations.
     *
     * @throws IllegalStateException if {@code changeId} is not the most recent change (undo later changes first)
     */
    public void undo(String changeId) {
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
        if (!torch.isfinite(t).all().item_bool()) {
            throw new IllegalArgumentException("refusing to write non-finite values (" + what + ")");
        }
    }

    /** One journal entry: a full replacement ({@code u == null}) or a rank-one update. Owns its tensors. */
    private record Change(String id, String parameter, Tensor value, Tensor u) implements AutoCloseable {
        void replay(Tensor w) {
            if (u == null) {
                w.copy_(value);
            } else {
                w.add_(torch.outer(value, u));
            }
        }

        @Override
        public void close() {
            value.close();
            if (u != null) {
                u.close();
            }
        }
    }

    /** The changes applied since loading, oldest first. */
    public List<String> changes() {
        return journal.stream().map(Change::id).toList();
    }

    /** SHA-256 (hex) of the weights as loaded: parameter names, shapes and float32 values. */
    public synchronized String baseFingerprint() {
        if (baseFingerprint == null) {
            baseFingerprint = hashWeights();
        }
        return baseFingerprint;
    }

    /** Identifies the current weights: the base fingerprint plus the journal of changes. */
    public String fingerprint() {
        String base = baseFingerprint();
        if (journal.isEmpty()) {
            return base;
        }
        return sha256((base + "\n" + String.join("\n", changes())).getBytes(StandardCharsets.UTF_8));
    }

    private String hashWeights() {
        MessageDigest md = newDigest();
        for (String name : params.usedNames()) {
            try (PointerScope scope = new PointerScope()) {
                Tensor t = params.get(name).to(Tensors.cpu(), torch.ScalarType.Float).contiguous();
                md.update(name.getBytes(StandardCharsets.UTF_8));
                md.update(Arrays.toString(Tensors.shape(t)).getBytes(StandardCharsets.UTF_8));
                ByteBuffer buf = t.data_ptr_float().capacity(t.numel()).asByteBuffer();
                md.update(buf);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] data) {
        return HexFormat.of().formatHex(newDigest().digest(data));
    }

    /**
     * Writes the model as a Hugging Face / diffusers {@code text_encoder/} folder: {@code config.json} and
     * {@code model.safetensors} with the same names and the stored dtype each tensor came with (float32 for
     * generated models). Files are written atomically; an existing folder's other files are left alone.
     */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        w.metadata("refact.source", source);
        w.metadata("refact.fingerprint", fingerprint());
        try (PointerScope scope = new PointerScope()) {
            for (String name : params.usedNames()) {
                DType stored = params.storedDtype(name);
                Tensor t = params.get(name);
                w.add(name, stored != null && stored.isFloatingPoint() ? t.to(stored.scalarType()) : t);
            }
            w.write(dir.resolve("model.safetensors"));
        }
        Path tmp = Files.createTempFile(dir, "config", ".json.tmp");
        Files.writeString(tmp, configJson(), StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("config.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private String configJson() {
        String json = config.toJson();
        if (projection == null) {
            json = json.replace("CLIPTextModelWithProjection", "CLIPTextModel");
        }
        return json;
    }

    /** A one-line description for logs. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ClipTextModel[%d layers × %d, mlp %d, %s, projection %s, %s]",
                config.numHiddenLayers(), config.hiddenSize(), config.intermediateSize(), config.hiddenAct(),
                projection == null ? "none" : projection.size(0), source);
    }

    @Override
    public void close() {
        journal.forEach(Change::close);
        journal.clear();
        originals.values().forEach(Tensor::close);
        originals.clear();
        params.close();
        device.close();
    }
}
