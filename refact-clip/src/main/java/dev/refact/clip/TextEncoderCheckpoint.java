package dev.refact.clip;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.Checkpoints;
import dev.refact.clip.io.SafetensorsCheckpoint;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One text encoder inside a checkpoint, with its layout detected from the tensor names (never the file name):
 * where each Hugging Face {@code CLIPTextModel} parameter comes from, the architecture (from {@code config.json}
 * or inferred from shapes), and the family (padding, SD 2.x penultimate rule).
 *
 * <p>Layouts: a diffusers root or {@code text_encoder/} folder; SDXL roots ({@code text_encoder/} +
 * {@code text_encoder_2/}); a bare HF {@code text_model.*} file; an SD 1.x LDM single file
 * ({@code cond_stage_model.transformer.[text_model.]*}); an SD 2.x single file (OpenCLIP
 * {@code cond_stage_model.model.*}, built without its last block); an SDXL single file
 * ({@code conditioner.embedders.0.transformer.*} + {@code conditioner.embedders.1.model.*}); an SDXL refiner single
 * file ({@code conditioner.embedders.0.model.*}: SDXL's encoder 2 alone; the same prefix at width 1024 is an SD 2.x
 * model saved in sgm format).
 * Internally every layout is mapped to HF names, so the rest of the library never sees the difference.
 */
final class TextEncoderCheckpoint {
    static final String SD1_PREFIX = "cond_stage_model.transformer.";
    static final String SD2_PREFIX = "cond_stage_model.model.";
    static final String SDXL1_PREFIX = "conditioner.embedders.0.transformer.";
    static final String SDXL2_PREFIX = "conditioner.embedders.1.model.";
    /**
     * The SDXL refiner's only text encoder, OpenCLIP ViT-bigG (the base's second one), in the same sgm layout at
     * embedder 0; an SD 2.x model saved in sgm format puts its OpenCLIP ViT-H there too (width 1024).
     */
    static final String SGM0_OPENCLIP_PREFIX = "conditioner.embedders.0.model.";
    private static final String SDXL_ANY = "conditioner.embedders.";

    /** How one HF parameter is made from a stored tensor. */
    enum Transform {
        /** As stored. */
        IDENTITY,
        /** Rows [0, d) of an OpenCLIP {@code in_proj} (q). */
        Q,
        /** Rows [d, 2d) (k). */
        K,
        /** Rows [2d, 3d) (v). */
        V,
        /** OpenCLIP {@code text_projection} [d, e] is applied as x @ P; HF stores the Linear weight Pᵀ [e, d]. */
        TRANSPOSE
    }

    /** Where an HF parameter comes from. */
    record Source(String key, Transform transform) {
    }

    /** Which naming scheme the stored tensors follow. */
    enum Naming {
        HF, OPENCLIP
    }

    private final Path input;
    private final Path weights;
    private final boolean singleFile;
    private final TextEncoderFamily family;
    private final int encoder;
    private final ClipTextConfig config;
    private final Map<String, Source> sources;
    private final String layoutName;
    /** Size and modification time of a single weights file when it was read (-1 for folders). */
    private final long size;
    private final long modified;

    private TextEncoderCheckpoint(Path input, Path weights, boolean singleFile, TextEncoderFamily family, int encoder,
                                  ClipTextConfig config, Map<String, Source> sources, String layoutName)
            throws IOException {
        this.size = singleFile ? Files.size(weights) : -1;
        this.modified = singleFile ? Files.getLastModifiedTime(weights).toMillis() : -1;
        this.input = input;
        this.weights = weights;
        this.singleFile = singleFile;
        this.family = family;
        this.encoder = encoder;
        this.config = config;
        this.sources = sources;
        this.layoutName = layoutName;
    }

    /**
     * Throws if the single weights file changed (size or modification time) since it was read, so that a
     * write-back never mixes two versions of a checkpoint.
     */
    void checkUnchanged() throws IOException {
        if (singleFile && (Files.size(weights) != size || Files.getLastModifiedTime(weights).toMillis() != modified)) {
            throw new CheckpointFormatException(weights, "changed on disk since the model was loaded; reload it "
                    + "before writing it back");
        }
    }

    /**
     * A short description of where the weights are, for {@link ClipTextModel#source()}: the encoder folder for
     * folder layouts (as before), the file for single files (with {@code [encoder 2]} for SDXL's second).
     */
    String sourceName() {
        if (Files.isDirectory(input)) {
            return (singleFile ? weights.getParent() : weights).toString();
        }
        return weights + (encoder == 2 ? " [encoder 2]" : "");
    }

    /** What the user passed. */
    Path input() {
        return input;
    }

    /** The weights: a file, or a folder (possibly sharded). */
    Path weights() {
        return weights;
    }

    /** Whether {@link #weights()} is one safetensors file (then single-file write-back is possible). */
    boolean isSingleFile() {
        return singleFile;
    }

    TextEncoderFamily family() {
        return family;
    }

    int encoder() {
        return encoder;
    }

    ClipTextConfig config() {
        return config;
    }

    /** HF name → stored tensor, in load order. */
    Map<String, Source> sources() {
        return sources;
    }

    /** A human-readable name of the layout, e.g. "SD 2.x single file (OpenCLIP)". */
    String layoutName() {
        return layoutName;
    }

    // ------------------------------------------------------------------ detection

    /**
     * Detects the layout of {@code path} and maps encoder {@code encoder} (1, or 2 for SDXL).
     *
     * @throws CheckpointFormatException naming the file and the missing or unexpected keys when nothing fits
     */
    static TextEncoderCheckpoint resolve(Path path, int encoder) throws IOException {
        if (encoder != 1 && encoder != 2) {
            throw new IllegalArgumentException("encoder must be 1 or 2, got " + encoder);
        }
        if (!Files.exists(path)) {
            throw new CheckpointFormatException(path, "no such file or folder");
        }
        if (Files.isRegularFile(path)) {
            Checkpoints.refusePickle(path);
            Map<String, TensorInfo> infos = headers(path);
            return fromSingleFile(path, infos, encoder);
        }
        Path dir;
        boolean sdxl = false;
        if (Files.isDirectory(path.resolve("text_encoder"))) {
            if (Files.isDirectory(path.resolve("text_encoder_2"))) {
                sdxl = true;
                dir = path.resolve(encoder == 1 ? "text_encoder" : "text_encoder_2");
            } else {
                requireEncoder1(path, encoder, "has no text_encoder_2/ (not an SDXL root)");
                dir = path.resolve("text_encoder");
            }
        } else {
            if (!Files.isRegularFile(path.resolve("config.json"))) {
                throw new CheckpointFormatException(path, "not a text encoder folder (no config.json and no "
                        + "text_encoder/ sub-folder)");
            }
            requireEncoder1(path, encoder, "holds one text encoder (--encoder 2 needs an SDXL checkpoint)");
            dir = path;
        }
        List<Path> files = Checkpoints.weightFiles(dir);
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (Path f : files) {
            infos.putAll(headers(f));
        }
        Path cfgFile = dir.resolve("config.json");
        ClipTextConfig cfg = Files.isRegularFile(cfgFile) ? ClipTextConfig.read(cfgFile) : null;
        TextEncoderFamily fam;
        if (sdxl) {
            fam = encoder == 1 ? TextEncoderFamily.SDXL_1 : TextEncoderFamily.SDXL_2;
        } else {
            fam = cfg != null && cfg.hiddenAct().equals("gelu") ? TextEncoderFamily.SD2 : TextEncoderFamily.SD1;
        }
        Path where = files.size() == 1 ? files.get(0) : dir;
        if (cfg == null) {
            cfg = inferHf(where, infos, "", fam);
        }
        Map<String, Source> src = mapHf(where, infos, cfg, "", true, k -> k.startsWith("text_model.")
                || k.equals("text_projection.weight"));
        String name = sdxl ? "SDXL diffusers folder, " + (encoder == 1 ? "text_encoder/" : "text_encoder_2/")
                : "diffusers/HF folder";
        return new TextEncoderCheckpoint(path, files.size() == 1 ? files.get(0) : dir, files.size() == 1, fam,
                encoder, cfg, src, name);
    }

    private static void requireEncoder1(Path path, int encoder, String why) throws CheckpointFormatException {
        if (encoder != 1) {
            throw new CheckpointFormatException(path, "--encoder 2 selects SDXL's second text encoder, but this "
                    + why);
        }
    }

    private static Map<String, TensorInfo> headers(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, TensorInfo> out = new LinkedHashMap<>();
            for (TensorInfo t : f.infos()) {
                out.put(t.name(), t);
            }
            return out;
        }
    }

    private static boolean anyStartsWith(Map<String, TensorInfo> infos, String prefix) {
        for (String k : infos.keySet()) {
            if (k.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static TextEncoderCheckpoint fromSingleFile(Path file, Map<String, TensorInfo> infos, int encoder)
            throws IOException {
        ClipTextConfig beside = configBeside(file);
        if (anyStartsWith(infos, SGM0_OPENCLIP_PREFIX) && !anyStartsWith(infos, SDXL1_PREFIX)) {
            TensorInfo tok = infos.get(SGM0_OPENCLIP_PREFIX + "token_embedding.weight");
            boolean vitH = tok != null && tok.shape().length == 2 && tok.shape()[1] == 1024;
            if (vitH) {                                     // SD 2.x in sgm format: as cond_stage_model.model.*
                return sd2(file, infos, beside, encoder, SGM0_OPENCLIP_PREFIX, "SD 2.x single file, sgm layout");
            }
            // the SDXL refiner: one encoder, SDXL's encoder 2 (--encoder 1, the default, or 2 select it)
            ClipTextConfig cfg = beside != null ? beside : inferOpenClip(file, infos, SGM0_OPENCLIP_PREFIX, false);
            return new TextEncoderCheckpoint(file, file, true, TextEncoderFamily.SDXL_2, 2, cfg,
                    mapOpenClip(file, infos, cfg, SGM0_OPENCLIP_PREFIX, false),
                    "SDXL refiner single file (OpenCLIP bigG, " + SGM0_OPENCLIP_PREFIX + "*; SDXL's encoder 2)");
        }
        if (anyStartsWith(infos, SDXL_ANY)) {
            if (encoder == 1) {
                requirePrefix(file, infos, SDXL1_PREFIX, "SDXL encoder 1");
                String prefix = SDXL1_PREFIX;
                boolean infix = infos.containsKey(SDXL1_PREFIX + "text_model.embeddings.token_embedding.weight");
                ClipTextConfig cfg = beside != null ? beside : inferHf(file, infos, prefix, TextEncoderFamily.SDXL_1);
                return new TextEncoderCheckpoint(file, file, true, TextEncoderFamily.SDXL_1, 1, cfg,
                        mapHf(file, infos, cfg, prefix, infix, k -> k.startsWith(SDXL1_PREFIX)),
                        "SDXL single file, encoder 1 (CLIP ViT-L, " + SDXL1_PREFIX + "*)");
            }
            requirePrefix(file, infos, SDXL2_PREFIX, "SDXL encoder 2");
            ClipTextConfig cfg = beside != null ? beside : inferOpenClip(file, infos, SDXL2_PREFIX, false);
            return new TextEncoderCheckpoint(file, file, true, TextEncoderFamily.SDXL_2, 2, cfg,
                    mapOpenClip(file, infos, cfg, SDXL2_PREFIX, false),
                    "SDXL single file, encoder 2 (OpenCLIP bigG, " + SDXL2_PREFIX + "*)");
        }
        if (anyStartsWith(infos, SD1_PREFIX)) {
            requireEncoder1(file, encoder, "is an SD 1.x single file");
            boolean infix = infos.containsKey(SD1_PREFIX + "text_model.embeddings.token_embedding.weight");
            ClipTextConfig cfg = beside != null ? beside : inferHf(file, infos, SD1_PREFIX, TextEncoderFamily.SD1);
            return new TextEncoderCheckpoint(file, file, true, TextEncoderFamily.SD1, 1, cfg,
                    mapHf(file, infos, cfg, SD1_PREFIX, infix, k -> k.startsWith(SD1_PREFIX)),
                    "SD 1.x single file (" + SD1_PREFIX + (infix ? "text_model." : "") + "*)");
        }
        if (anyStartsWith(infos, SD2_PREFIX)) {
            return sd2(file, infos, beside, encoder, SD2_PREFIX, "SD 2.x single file");
        }
        if (anyStartsWith(infos, "text_model.")) {
            requireEncoder1(file, encoder, "holds one text encoder (HF text_model.* names)");
            TextEncoderFamily fam = beside != null && beside.hiddenAct().equals("gelu")
                    ? TextEncoderFamily.SD2 : TextEncoderFamily.SD1;
            ClipTextConfig cfg = beside != null ? beside : inferHf(file, infos, "", fam);
            return new TextEncoderCheckpoint(file, file, true, fam, 1, cfg,
                    mapHf(file, infos, cfg, "", true, k -> k.startsWith("text_model.")
                            || k.equals("text_projection.weight")),
                    "HF text encoder file (text_model.*)");
        }
        List<String> first = new ArrayList<>(infos.keySet()).subList(0, Math.min(5, infos.size()));
        throw new CheckpointFormatException(file, "no text encoder found: expected tensors under '" + SD1_PREFIX
                + "' (SD 1.x), '" + SD2_PREFIX + "' (SD 2.x), '" + SDXL1_PREFIX + "' + '" + SDXL2_PREFIX
                + "' (SDXL) or 'text_model.' (HF); the file starts with " + first);
    }

    /** An SD 2.x OpenCLIP encoder under {@code prefix}: built without its last block, projection ignored. */
    private static TextEncoderCheckpoint sd2(Path file, Map<String, TensorInfo> infos, ClipTextConfig beside,
                                             int encoder, String prefix, String what) throws IOException {
        requireEncoder1(file, encoder, "is an " + what);
        ClipTextConfig cfg = beside != null ? beside : inferOpenClip(file, infos, prefix, true);
        return new TextEncoderCheckpoint(file, file, true, TextEncoderFamily.SD2, 1, cfg,
                mapOpenClip(file, infos, cfg, prefix, true), what + " (OpenCLIP, " + prefix + "*, penultimate block)");
    }

    private static void requirePrefix(Path file, Map<String, TensorInfo> infos, String prefix, String what)
            throws CheckpointFormatException {
        if (!anyStartsWith(infos, prefix)) {
            throw new CheckpointFormatException(file, "has SDXL keys ('" + SDXL_ANY + "*') but no '" + prefix
                    + "*' tensors for " + what + " (another SDXL-family model?)");
        }
    }

    /**
     * A CLIP text {@code config.json} beside a single file (used instead of shape inference, e.g. for widths
     * that are not multiples of 64), or null when there is none or it describes something else.
     */
    private static ClipTextConfig configBeside(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Path cfg = parent == null ? null : parent.resolve("config.json");
        if (cfg == null || !Files.isRegularFile(cfg)) {
            return null;
        }
        try {
            JsonElement e = JsonParser.parseString(dev.refact.clip.io.TextFiles.readString(cfg, dev.refact.clip.io.TextFiles.MAX_JSON_BYTES));
            if (!e.isJsonObject()) {
                return null;
            }
            JsonObject o = e.getAsJsonObject();
            String type = o.has("model_type") && o.get("model_type").isJsonPrimitive()
                    ? o.get("model_type").getAsString() : "";
            if (!type.equals("clip_text_model") && !type.equals("clip")) {
                return null;
            }
        } catch (RuntimeException | java.nio.charset.MalformedInputException e) {
            return null;
        }
        return ClipTextConfig.read(cfg);
    }

    // ------------------------------------------------------------------ config inference

    private static final Pattern HF_LAYER = Pattern.compile("encoder\\.layers\\.(\\d+)\\.");
    private static final Pattern OPENCLIP_BLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.");

    /** Layer indices above this are refused before they are parsed or used (the config allows 1024 layers). */
    private static final int MAX_LAYER_INDEX = 1023;

    private static int countIndices(Path file, Map<String, TensorInfo> infos, String prefix, Pattern p)
            throws CheckpointFormatException {
        int max = -1;
        for (String k : infos.keySet()) {
            if (k.startsWith(prefix)) {
                Matcher m = p.matcher(k.substring(prefix.length()));
                if (m.find()) {
                    String digits = m.group(1);
                    if (digits.length() > 4 || Integer.parseInt(digits) > MAX_LAYER_INDEX) {
                        throw new CheckpointFormatException(file, k, "layer index " + digits + " is out of range (at "
                                + "most " + MAX_LAYER_INDEX + ")");
                    }
                    max = Math.max(max, Integer.parseInt(digits));
                }
            }
        }
        return max + 1;
    }

    private static long[] shapeOf(Path file, Map<String, TensorInfo> infos, String key, int rank, List<String> missing) {
        TensorInfo t = infos.get(key);
        if (t == null) {
            missing.add(key);
            return null;
        }
        if (t.shape().length != rank) {
            missing.add(key + " (rank " + t.shape().length + ", expected " + rank + ")");
            return null;
        }
        return t.shape();
    }

    /** Infers a config for HF-named tensors under {@code prefix} (with or without the {@code text_model.} infix). */
    static ClipTextConfig inferHf(Path file, Map<String, TensorInfo> infos, String prefix, TextEncoderFamily fam)
            throws CheckpointFormatException {
        String tm = infos.containsKey(prefix + "text_model.embeddings.token_embedding.weight")
                ? prefix + "text_model." : prefix;
        List<String> missing = new ArrayList<>();
        long[] tok = shapeOf(file, infos, tm + "embeddings.token_embedding.weight", 2, missing);
        long[] pos = shapeOf(file, infos, tm + "embeddings.position_embedding.weight", 2, missing);
        long[] fc1 = shapeOf(file, infos, tm + "encoder.layers.0.mlp.fc1.weight", 2, missing);
        if (!missing.isEmpty()) {
            throw new CheckpointFormatException(file, "cannot infer the text encoder's shape: missing " + missing);
        }
        int layers = countIndices(file, infos, tm, HF_LAYER);
        TensorInfo proj = infos.get(prefix + "text_projection.weight");
        int projDim = proj != null && proj.shape().length == 2 ? (int) proj.shape()[0] : 0;
        return inferred(file, tok, pos, fc1, layers, projDim, fam);
    }

    /** Infers a config for OpenCLIP-named tensors under {@code prefix}; SD 2.x drops the last block. */
    static ClipTextConfig inferOpenClip(Path file, Map<String, TensorInfo> infos, String prefix, boolean penultimate)
            throws CheckpointFormatException {
        List<String> missing = new ArrayList<>();
        long[] tok = shapeOf(file, infos, prefix + "token_embedding.weight", 2, missing);
        long[] pos = shapeOf(file, infos, prefix + "positional_embedding", 2, missing);
        long[] fc = shapeOf(file, infos, prefix + "transformer.resblocks.0.mlp.c_fc.weight", 2, missing);
        if (!missing.isEmpty()) {
            throw new CheckpointFormatException(file, "cannot infer the text encoder's shape: missing " + missing);
        }
        int blocks = countIndices(file, infos, prefix, OPENCLIP_BLOCK);
        int layers = penultimate ? blocks - 1 : blocks;
        if (layers < 1) {
            throw new CheckpointFormatException(file, "'" + prefix + "transformer.resblocks.*' has " + blocks
                    + " block(s); " + (penultimate ? "SD 2.x needs at least 2 (the last is not used)" : "need 1"));
        }
        int projDim = 0;
        if (!penultimate) {
            TensorInfo proj = infos.get(prefix + "text_projection");
            projDim = proj != null && proj.shape().length == 2 ? (int) proj.shape()[1] : 0;
        }
        return inferred(file, tok, pos, fc, layers, projDim,
                penultimate ? TextEncoderFamily.SD2 : TextEncoderFamily.SDXL_2);
    }

    private static ClipTextConfig inferred(Path file, long[] tok, long[] pos, long[] fc1, int layers, int projDim,
                                           TextEncoderFamily fam) throws CheckpointFormatException {
        int d = (int) tok[1];
        if (d % 64 != 0) {
            throw new CheckpointFormatException(file, "width " + d + " is not a multiple of 64, so the number of "
                    + "attention heads cannot be inferred (heads = width / 64); put the model's config.json beside it");
        }
        int pad = fam.padding() == dev.refact.clip.tokenizer.Padding.ZERO ? 0 : 49407;
        try {
            return new ClipTextConfig(d, (int) fc1[0], layers, d / 64, (int) pos[0], (int) tok[0],
                    fam.isOpenClip() ? "gelu" : "quick_gelu", 1e-5, projDim, pad, 2);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file, "inferred config is invalid: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ key mapping

    /** The HF names the architecture needs, in checkpoint-like order. */
    private static List<String> hfNames(ClipTextConfig cfg, boolean projection) {
        List<String> out = new ArrayList<>();
        out.add("text_model.embeddings.token_embedding.weight");
        out.add("text_model.embeddings.position_embedding.weight");
        for (int i = 0; i < cfg.numHiddenLayers(); i++) {
            String l = "text_model.encoder.layers." + i + ".";
            for (String s : new String[] {"layer_norm1.weight", "layer_norm1.bias",
                "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight", "self_attn.k_proj.bias",
                "self_attn.v_proj.weight", "self_attn.v_proj.bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                "layer_norm2.weight", "layer_norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
                "mlp.fc2.bias"}) {
                out.add(l + s);
            }
        }
        out.add("text_model.final_layer_norm.weight");
        out.add("text_model.final_layer_norm.bias");
        if (projection) {
            out.add("text_projection.weight");
        }
        return out;
    }

    /**
     * Maps HF-named tensors stored under {@code prefix} ({@code infix}: with the {@code text_model.} part).
     * Every stored key in {@code scope} must be used or ignorable ({@code position_ids}).
     */
    private static Map<String, Source> mapHf(Path file, Map<String, TensorInfo> infos, ClipTextConfig cfg,
                                             String prefix, boolean infix,
                                             java.util.function.Predicate<String> scope)
            throws CheckpointFormatException {
        boolean projection = infos.containsKey(prefix + "text_projection.weight");
        Map<String, Source> out = new LinkedHashMap<>();
        for (String hf : hfNames(cfg, projection)) {
            String key = hf.startsWith("text_model.") && !infix ? prefix + hf.substring("text_model.".length())
                    : prefix + hf;
            out.put(hf, new Source(key, Transform.IDENTITY));
        }
        check(file, infos, out, scope, k -> k.endsWith("position_ids"));
        // Checkpoint (header) order, as before layouts existed: parameterNames() and the fingerprint follow it.
        Map<String, Integer> position = new java.util.HashMap<>();
        for (String k : infos.keySet()) {
            position.put(k, position.size());
        }
        Map<String, Source> ordered = new LinkedHashMap<>();
        out.entrySet().stream()
                .sorted(java.util.Comparator.comparingInt(e -> position.get(e.getValue().key())))
                .forEachOrdered(e -> ordered.put(e.getKey(), e.getValue()));
        return ordered;
    }

    /** Maps OpenCLIP-named tensors under {@code prefix}; with {@code penultimate} the last block is skipped. */
    private static Map<String, Source> mapOpenClip(Path file, Map<String, TensorInfo> infos, ClipTextConfig cfg,
                                                   String prefix, boolean penultimate)
            throws CheckpointFormatException {
        boolean projection = !penultimate && infos.containsKey(prefix + "text_projection");
        Map<String, Source> out = new LinkedHashMap<>();
        out.put("text_model.embeddings.token_embedding.weight", id(prefix + "token_embedding.weight"));
        out.put("text_model.embeddings.position_embedding.weight", id(prefix + "positional_embedding"));
        for (int i = 0; i < cfg.numHiddenLayers(); i++) {
            String l = "text_model.encoder.layers." + i + ".";
            String b = prefix + "transformer.resblocks." + i + ".";
            out.put(l + "layer_norm1.weight", id(b + "ln_1.weight"));
            out.put(l + "layer_norm1.bias", id(b + "ln_1.bias"));
            out.put(l + "self_attn.q_proj.weight", new Source(b + "attn.in_proj_weight", Transform.Q));
            out.put(l + "self_attn.q_proj.bias", new Source(b + "attn.in_proj_bias", Transform.Q));
            out.put(l + "self_attn.k_proj.weight", new Source(b + "attn.in_proj_weight", Transform.K));
            out.put(l + "self_attn.k_proj.bias", new Source(b + "attn.in_proj_bias", Transform.K));
            out.put(l + "self_attn.v_proj.weight", new Source(b + "attn.in_proj_weight", Transform.V));
            out.put(l + "self_attn.v_proj.bias", new Source(b + "attn.in_proj_bias", Transform.V));
            out.put(l + "self_attn.out_proj.weight", id(b + "attn.out_proj.weight"));
            out.put(l + "self_attn.out_proj.bias", id(b + "attn.out_proj.bias"));
            out.put(l + "layer_norm2.weight", id(b + "ln_2.weight"));
            out.put(l + "layer_norm2.bias", id(b + "ln_2.bias"));
            out.put(l + "mlp.fc1.weight", id(b + "mlp.c_fc.weight"));
            out.put(l + "mlp.fc1.bias", id(b + "mlp.c_fc.bias"));
            out.put(l + "mlp.fc2.weight", id(b + "mlp.c_proj.weight"));
            out.put(l + "mlp.fc2.bias", id(b + "mlp.c_proj.bias"));
        }
        out.put("text_model.final_layer_norm.weight", id(prefix + "ln_final.weight"));
        out.put("text_model.final_layer_norm.bias", id(prefix + "ln_final.bias"));
        if (projection) {
            out.put("text_projection.weight", new Source(prefix + "text_projection", Transform.TRANSPOSE));
        }
        String last = prefix + "transformer.resblocks." + cfg.numHiddenLayers() + ".";
        java.util.function.Predicate<String> ignorable = k -> k.equals(prefix + "logit_scale")
                || k.equals(prefix + "attn_mask") || k.endsWith("position_ids")
                || (penultimate && (k.startsWith(last) || k.equals(prefix + "text_projection")));
        check(file, infos, out, k -> k.startsWith(prefix), ignorable);
        // The order of the converted diffusers file (names sorted, as safetensors writes them), so that the
        // fingerprint equals that of the equivalent diffusers folder.
        return new LinkedHashMap<>(new java.util.TreeMap<>(out));
    }

    private static Source id(String key) {
        return new Source(key, Transform.IDENTITY);
    }

    /** One error naming every missing stored key and every unexpected key in scope. */
    private static void check(Path file, Map<String, TensorInfo> infos, Map<String, Source> mapping,
                              java.util.function.Predicate<String> scope,
                              java.util.function.Predicate<String> ignorable) throws CheckpointFormatException {
        TreeSet<String> used = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Source> e : mapping.entrySet()) {
            String key = e.getValue().key();
            used.add(key);
            if (!infos.containsKey(key) && problems.stream().noneMatch(p -> p.contains("'" + key + "'"))) {
                problems.add("missing tensor '" + key + "'" + (key.endsWith(e.getKey()) ? "" : " (for " + e.getKey() + ")"));
            }
        }
        TreeSet<String> unexpected = new TreeSet<>();
        for (String k : infos.keySet()) {
            if (scope.test(k) && !used.contains(k) && !ignorable.test(k)) {
                unexpected.add(k);
            }
        }
        if (!unexpected.isEmpty()) {
            problems.add("unexpected tensors " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new CheckpointFormatException(file, problems.size() + " problem(s) with the weights: "
                    + String.join("; ", problems));
        }
    }

    // ------------------------------------------------------------------ loading

    /** Reads the mapped tensors into a new store (float tensors converted to {@code dtype} on {@code device}). */
    ParameterStore read(Device device, ScalarType dtype) throws IOException {
        ParameterStore store = new ParameterStore(weights);
        // a stored tensor that several parameters come from (OpenCLIP in_proj → q, k, v) is read once, kept until
        // its last part is cut (one at a time, so loading holds at most one such tensor more than the weights)
        Map<String, Tensor> shared = new java.util.HashMap<>();
        Map<String, Integer> uses = new java.util.HashMap<>();
        sources.values().forEach(src -> uses.merge(src.key(), 1, Integer::sum));
        try (SafetensorsCheckpoint ck = SafetensorsCheckpoint.open(weights)) {
            for (Map.Entry<String, Source> e : sources.entrySet()) {
                Source s = e.getValue();
                TensorInfo info = ck.info(s.key());
                ScalarType target = info.dtype().isFloatingPoint() ? dtype : info.dtype().scalarType();
                Tensor t;
                if (s.transform() == Transform.IDENTITY) {
                    t = ck.toTensor(s.key(), target, device); // one reference, no scope: the store owns it
                } else {
                    Tensor raw = shared.get(s.key());
                    if (raw == null) {
                        raw = ck.toTensor(s.key(), target, device);
                        shared.put(s.key(), raw);
                    }
                    // A private scope, so that weights never belong to a scope the caller may have open.
                    try (PointerScope scope = new PointerScope()) {
                        t = transform(s, raw, info).retainReference();
                    }
                    if (uses.merge(s.key(), -1, Integer::sum) == 0) {
                        shared.remove(s.key()).close();
                    }
                }
                store.put(e.getKey(), t, info.dtype());
            }
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        } finally {
            shared.values().forEach(Tensor::close);
        }
        return store;
    }

    private Tensor transform(Source s, Tensor raw, TensorInfo info) throws CheckpointFormatException {
        long[] shape = info.shape();
        if (s.transform() == Transform.TRANSPOSE) {
            if (shape.length != 2) {
                throw new CheckpointFormatException(weights, s.key(), "expected a matrix [width, projection], got "
                        + java.util.Arrays.toString(shape));
            }
            return raw.t().contiguous().clone();
        }
        int d = config.hiddenSize();
        if (shape.length < 1 || shape[0] != 3L * d) {
            throw new CheckpointFormatException(weights, s.key(), "in_proj must have 3 × " + d + " = " + (3 * d)
                    + " rows (q;k;v), got shape " + java.util.Arrays.toString(shape));
        }
        int part = s.transform() == Transform.Q ? 0 : s.transform() == Transform.K ? 1 : 2;
        return raw.narrow(0, (long) part * d, d).clone();
    }
}
