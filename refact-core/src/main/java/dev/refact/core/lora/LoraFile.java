package dev.refact.core.lora;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A text-encoder LoRA file read into memory (factors as float32), detected by content: kohya
 * ({@code lora_te_*}, {@code lora_te1_*}, {@code lora_te2_*} with {@code .lora_down.weight}, {@code .lora_up.weight},
 * {@code .alpha}), PEFT ({@code text_encoder.*.lora_A.weight} / {@code .lora_B.weight}, {@code text_encoder_2.*})
 * and older diffusers ({@code *.lora_linear_layer.down.weight} / {@code .up.weight}).
 *
 * <p>UNet tensors ({@code lora_unet_*}, {@code unet.*}) are not text-encoder weights: they are listed in
 * {@link #skipped()} and never applied. {@link #apply} merges {@code W ← W + up @ down × alpha / rank} into the
 * matching weights of a {@link ClipTextModel}, after checking every module against the model first.
 */
public final class LoraFile {
    private final Path path;
    private final LoraFormat format;
    private final List<Module> modules;
    private final List<Skipped> skipped;

    /**
     * One low-rank module of a text encoder.
     *
     * @param key     module key in the file, e.g. {@code lora_te_text_model_encoder_layers_7_mlp_fc2}
     * @param format  its layout
     * @param encoder 0 (a single text encoder: {@code lora_te_}, {@code text_encoder.}), 1 ({@code lora_te1_}) or
     *                2 ({@code lora_te2_}, {@code text_encoder_2.})
     * @param name    module name after the encoder prefix ({@code text_model_encoder_layers_7_mlp_fc2} for kohya,
     *                {@code text_model.encoder.layers.7.mlp.fc2} otherwise)
     * @param down    [rank, in] row-major
     * @param up      [out, rank] row-major
     * @param rank    rank
     * @param in      input features
     * @param out     output features
     * @param alpha   alpha (the rank when the file has none), so the merged delta is {@code up @ down × alpha / rank}
     */
    public record Module(String key, LoraFormat format, int encoder, String name, float[] down, float[] up, int rank,
                         int in, int out, double alpha) {
        /**
         * Copies the arrays and checks their lengths.
         *
         * @param key     module key in the file (not null)
         * @param format  its layout
         * @param encoder 0, 1 or 2
         * @param name    module name after the encoder prefix
         * @param down    [rank, in] row-major, length {@code rank × in} (copied)
         * @param up      [out, rank] row-major, length {@code out × rank} (copied)
         * @param rank    rank
         * @param in      input features
         * @param out     output features
         * @param alpha   alpha
         * @throws IllegalArgumentException if {@code rank} is less than 1 (its scale {@code alpha / rank} would be
         *                                  infinite or NaN), or an array length does not match the sizes
         */
        public Module {
            Objects.requireNonNull(key, "key");
            if (rank < 1) {
                throw new IllegalArgumentException("LoRA module " + key + " has rank " + rank + "; a LoRA module needs "
                        + "rank >= 1 (its scale is alpha / rank)");
            }
            down = down.clone();
            up = up.clone();
            if ((long) rank * in != down.length || (long) out * rank != up.length) {
                throw new IllegalArgumentException(key + ": factor sizes do not match rank " + rank);
            }
        }

        /**
         * {@code alpha / rank}.
         *
         * @return the factor the product {@code up @ down} is multiplied by when merged
         */
        public double scale() {
            return alpha / rank;
        }

        /**
         * The down/A factor (a copy), [rank, in] row-major.
         *
         * @return a new array of length {@code rank × in}
         */
        @Override
        public float[] down() {
            return down.clone();
        }

        /**
         * The up/B factor (a copy), [out, rank] row-major.
         *
         * @return a new array of length {@code out × rank}
         */
        @Override
        public float[] up() {
            return up.clone();
        }
    }

    /**
     * A tensor that is not applied.
     *
     * @param key    tensor name
     * @param reason why (e.g. {@code UNet})
     */
    public record Skipped(String key, String reason) {
    }

    /**
     * A module merged into a model.
     *
     * @param key        module key in the file
     * @param weightName the model weight changed
     * @param rank       rank
     * @param scale      alpha / rank used
     * @param changeId   the model's change id (undo with {@code model.undo(changeId)}, latest first)
     */
    public record Merged(String key, String weightName, int rank, double scale, String changeId) {
    }

    private LoraFile(Path path, LoraFormat format, List<Module> modules, List<Skipped> skipped) {
        this.path = path;
        this.format = format;
        this.modules = List.copyOf(modules);
        this.skipped = List.copyOf(skipped);
    }

    /**
     * The file read.
     *
     * @return the path given to {@link #read}
     */
    public Path path() {
        return path;
    }

    /**
     * The layout detected (of the text-encoder modules; kohya when the file has only UNet tensors).
     *
     * @return the file's key layout
     */
    public LoraFormat format() {
        return format;
    }

    /**
     * Text-encoder modules, in file order.
     *
     * @return an unmodifiable list, empty when the file has only UNet tensors
     */
    public List<Module> modules() {
        return modules;
    }

    /**
     * Tensors that are not applied (UNet), in file order.
     *
     * @return an unmodifiable list, possibly empty
     */
    public List<Skipped> skipped() {
        return skipped;
    }

    /**
     * Whether a safetensors file holds LoRA tensors (any name ending in {@code .lora_down.weight},
     * {@code .lora_A.weight} or {@code .lora_linear_layer.down.weight}, or starting with {@code lora_te}/{@code lora_unet}).
     *
     * @param file a safetensors file
     * @return true if some tensor name matches
     * @throws CheckpointFormatException if the file is not a well-formed safetensors file
     * @throws IOException               if it cannot be read
     */
    public static boolean isLora(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            for (String n : sf.names()) {
                if (n.endsWith(".lora_down.weight") || n.endsWith(".lora_A.weight")
                        || n.endsWith(".lora_linear_layer.down.weight") || n.startsWith("lora_te")
                        || n.startsWith("lora_unet")) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final String[][] SUFFIXES = {
        // format, down suffix, up suffix
        {"KOHYA", ".lora_down.weight", ".lora_up.weight"},
        {"PEFT", ".lora_A.weight", ".lora_B.weight"},
        {"DIFFUSERS_LEGACY", ".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight"},
    };

    /**
     * Reads a LoRA file.
     *
     * @param file a LoRA {@code .safetensors} file
     * @return its modules (factors read as float32) and skipped UNet tensors
     * @throws CheckpointFormatException naming the file and tensor when a text-encoder tensor is not a LoRA factor
     *                                   or alpha, a factor has no partner, ranks disagree, a module has rank 0, or
     *                                   nothing is a LoRA
     * @throws IOException               if the file cannot be read
     */
    public static LoraFile read(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            List<Skipped> skipped = new ArrayList<>();
            Map<String, String[]> parts = new LinkedHashMap<>(); // base → {format, down, up}
            Map<String, String> alphas = new HashMap<>();
            for (String n : sf.names()) {
                if (n.startsWith("lora_unet_") || n.startsWith("unet.")) {
                    skipped.add(new Skipped(n, "UNet"));
                    continue;
                }
                if (n.endsWith(".alpha")) {
                    alphas.put(n.substring(0, n.length() - ".alpha".length()), n);
                    continue;
                }
                boolean matched = false;
                for (String[] s : SUFFIXES) {
                    for (int side = 1; side <= 2; side++) {
                        if (n.endsWith(s[side])) {
                            String base = n.substring(0, n.length() - s[side].length());
                            String[] p = parts.computeIfAbsent(base, b -> new String[] {s[0], null, null});
                            p[side] = n;
                            matched = true;
                        }
                    }
                }
                if (!matched) {
                    throw new CheckpointFormatException(file, n, "is not a LoRA factor (lora_down/lora_up, "
                            + "lora_A/lora_B, lora_linear_layer.down/up) or alpha of a text encoder; other kinds of "
                            + "networks (LoHa, LoKr, DoRA, full weights) are not supported");
                }
            }
            List<Module> modules = new ArrayList<>();
            LoraFormat fileFormat = null;
            for (Map.Entry<String, String[]> e : parts.entrySet()) {
                String base = e.getKey();
                String[] p = e.getValue();
                LoraFormat f = LoraFormat.valueOf(p[0]);
                if (p[1] == null || p[2] == null) {
                    throw new CheckpointFormatException(file, p[1] == null ? p[2] : p[1], "has no "
                            + (p[1] == null ? "down/A" : "up/B") + " partner");
                }
                int encoder;
                String name;
                if (f == LoraFormat.KOHYA) {
                    if (base.startsWith("lora_te_")) {
                        encoder = 0;
                    } else if (base.startsWith("lora_te1_")) {
                        encoder = 1;
                    } else if (base.startsWith("lora_te2_")) {
                        encoder = 2;
                    } else {
                        throw new CheckpointFormatException(file, p[1], "has an unknown module prefix (expected "
                                + "lora_te_, lora_te1_, lora_te2_ or lora_unet_)");
                    }
                    name = base.substring(encoder == 0 ? "lora_te_".length() : "lora_te1_".length());
                } else if (base.startsWith("text_encoder_2.")) {
                    encoder = 2;
                    name = base.substring("text_encoder_2.".length());
                } else if (base.startsWith("text_encoder.")) {
                    encoder = 0;
                    name = base.substring("text_encoder.".length());
                } else if (base.startsWith("text_model.")) {
                    encoder = 0;
                    name = base;
                } else {
                    throw new CheckpointFormatException(file, p[1], "has an unknown module prefix (expected "
                            + "text_encoder., text_encoder_2., text_model. or unet.)");
                }
                TensorInfo di = sf.info(p[1]);
                TensorInfo ui = sf.info(p[2]);
                long[] ds = di.shape();
                long[] us = ui.shape();
                if (ds.length != 2 || us.length != 2 || ds[0] != us[1] || !di.dtype().isFloatingPoint()
                        || !ui.dtype().isFloatingPoint()) {
                    throw new CheckpointFormatException(file, base, "down " + Arrays.toString(ds) + " and up "
                            + Arrays.toString(us) + " are not [rank, in] and [out, rank] float matrices");
                }
                if (ds[0] < 1 || ds[0] > Integer.MAX_VALUE) {
                    throw new CheckpointFormatException(file, base, "has rank " + ds[0] + " (down "
                            + Arrays.toString(ds) + ", up " + Arrays.toString(us) + "); a LoRA module needs rank >= 1 "
                            + "(its scale is alpha / rank)");
                }
                int rank = (int) ds[0];
                double alpha = rank;
                String alphaName = alphas.remove(base);
                if (alphaName != null) {
                    float[] a = sf.readFloats(alphaName);
                    if (a.length != 1 || !Float.isFinite(a[0])) {
                        throw new CheckpointFormatException(file, alphaName, "must be one finite number");
                    }
                    alpha = a[0];
                }
                modules.add(new Module(base, f, encoder, name, sf.readFloats(p[1]), sf.readFloats(p[2]), rank,
                        (int) ds[1], (int) us[0], alpha));
                if (fileFormat != null && fileFormat != f) {
                    throw new CheckpointFormatException(file, base, "mixes " + fileFormat.cliName() + " and "
                            + f.cliName() + " key layouts");
                }
                fileFormat = f;
            }
            if (!alphas.isEmpty()) {
                throw new CheckpointFormatException(file, alphas.values().iterator().next(), "is an alpha without "
                        + "LoRA factors");
            }
            if (modules.isEmpty() && skipped.isEmpty()) {
                throw new CheckpointFormatException(file, "holds no LoRA tensors");
            }
            return new LoraFile(file, fileFormat == null ? LoraFormat.KOHYA : fileFormat, modules, skipped);
        }
    }

    /**
     * The modules for a model's text encoder, with the weight each one changes.
     *
     * @param model   the text encoder whose weight names and shapes the modules are matched against (not changed)
     * @param encoder 1 for a single-encoder model or SDXL's first encoder (modules {@code lora_te_}/{@code lora_te1_},
     *                {@code text_encoder.}), 2 for SDXL's second ({@code lora_te2_}, {@code text_encoder_2.});
     *                modules of the other encoder are left out
     * @return module → name of the weight it changes, in file order
     * @throws IllegalArgumentException naming the file, module and shapes when a module has no matching weight or
     *                                  does not fit it; also if {@code encoder} is not 1 or 2
     */
    public Map<Module, String> resolve(ClipTextModel model, int encoder) {
        if (encoder != 1 && encoder != 2) {
            throw new IllegalArgumentException("encoder must be 1 or 2, got " + encoder);
        }
        Map<String, String> kohyaNames = new HashMap<>();
        java.util.Set<String> names = new java.util.HashSet<>(model.parameterNames());
        for (String n : model.parameterNames()) {
            if (n.endsWith(".weight")) {
                kohyaNames.put(n.substring(0, n.length() - ".weight".length()).replace('.', '_'), n);
            }
        }
        Map<Module, String> out = new LinkedHashMap<>();
        for (Module m : modules) {
            boolean mine = encoder == 2 ? m.encoder() == 2 : m.encoder() != 2;
            if (!mine) {
                continue;
            }
            String weight = m.format() == LoraFormat.KOHYA ? kohyaNames.get(m.name()) : m.name() + ".weight";
            if (weight == null || !names.contains(weight)) {
                throw new IllegalArgumentException(path + ": LoRA module " + m.key() + " has no matching weight in "
                        + "the text encoder (" + model.source() + ")");
            }
            long[] ws = Tensors.shape(model.parameter(weight));
            if (ws.length != 2 || ws[0] != m.out() || ws[1] != m.in()) {
                throw new IllegalArgumentException(path + ": LoRA module " + m.key() + " is " + m.out() + "x" + m.in()
                        + " (rank " + m.rank() + ") but " + weight + " is " + Arrays.toString(ws));
            }
            out.put(m, weight);
        }
        return out;
    }

    /**
     * Merges this file's modules for {@code encoder} into {@code model}: {@code W ← W + (up @ down) × alpha / rank}
     * computed in float32 and stored in the model's dtype, one journalled change per module (change id
     * {@code changeIdPrefix + ":" + key}). All modules are checked first; on any failure the model is unchanged.
     *
     * @param model          the text encoder to change
     * @param encoder        1 or 2, as in {@link #resolve}
     * @param changeIdPrefix prefix of the change ids, e.g. {@code "lora:" + file name}; the resulting ids must not
     *                       already be applied to the model
     * @return the merged modules, in order
     * @throws IllegalArgumentException as {@link #resolve}, or for a non-finite result
     */
    public List<Merged> apply(ClipTextModel model, int encoder, String changeIdPrefix) {
        Map<Module, String> targets = resolve(model, encoder);
        List<Merged> done = new ArrayList<>();
        try {
            for (Map.Entry<Module, String> e : targets.entrySet()) {
                Module m = e.getKey();
                String id = changeIdPrefix + ":" + m.key();
                try (PointerScope scope = new PointerScope()) {
                    Tensor up = Tensors.floats(m.up(), model.device(), m.out(), m.rank());
                    Tensor down = Tensors.floats(m.down(), model.device(), m.rank(), m.in());
                    Tensor delta = up.matmul(down);
                    if (m.scale() != 1.0) {
                        delta = delta.mul(new Scalar(m.scale()));
                    }
                    Tensor w = model.parameter(e.getValue()).to(ScalarType.Float).add(delta);
                    model.replaceParameter(e.getValue(), w, id);
                }
                done.add(new Merged(m.key(), e.getValue(), m.rank(), m.scale(), id));
            }
        } catch (RuntimeException ex) {
            for (int i = done.size() - 1; i >= 0; i--) {
                model.undo(done.get(i).changeId());
            }
            throw new IllegalArgumentException(path + ": " + ex.getMessage(), ex);
        }
        return done;
    }
}
