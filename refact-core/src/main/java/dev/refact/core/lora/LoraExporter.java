package dev.refact.core.lora;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.core.EditProvenance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes edits as one text-encoder LoRA file.
 *
 * <p>Edits of the same weight stack into one module of rank k = the total number of rows: the down/A matrix
 * [k, d_in] has the u rows, the up/B matrix [d_out, k] has the r rows as columns, so
 * {@code up @ down = Σ r_i u_iᵀ}, the edits' delta exactly (in F32; F16/BF16 round each factor once). Edits of
 * different weights give different modules.
 * <ul>
 *   <li>{@link LoraFormat#KOHYA}: {@code .alpha} = k per module (scale alpha/k = 1); metadata
 *       {@code ss_network_module = networks.lora}, {@code ss_network_dim}, {@code ss_network_alpha}.</li>
 *   <li>{@link LoraFormat#PEFT}: every module is written with the same rank K (the largest k; smaller modules
 *       are padded with zero rows of A and zero columns of B, which leaves their delta unchanged) and without
 *       alphas, so that diffusers' default {@code lora_alpha = r} gives scale exactly 1 for every module.</li>
 * </ul>
 * Both carry our provenance in metadata ({@code refact.kind = lora}, {@code refact.edits}).
 *
 * <p>Example (JShell): {@code LoraExporter.builder().build().write(List.of(EditDelta.read(Path.of("a.edit.safetensors"))), Path.of("a.lora.safetensors"))}.
 */
public final class LoraExporter {
    /** {@code refact.kind} written in LoRA files made by this class. */
    public static final String KIND = "lora";

    private final LoraFormat format;
    private final int encoder;
    private final DType dtype;

    private LoraExporter(Builder b) {
        this.format = b.format;
        this.encoder = b.encoder;
        this.dtype = b.dtype;
    }

    /**
     * A builder: kohya, single-encoder model (prefix {@code lora_te_}), float32.
     *
     * @return a new builder with those defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The file layout.
     *
     * @return {@link LoraFormat#KOHYA} or {@link LoraFormat#PEFT}
     */
    public LoraFormat format() {
        return format;
    }

    /**
     * 0 for a model with one text encoder, 1 or 2 for SDXL's first or second encoder.
     *
     * @return 0, 1 or 2
     */
    public int encoder() {
        return encoder;
    }

    /**
     * Dtype of the factors on disk.
     *
     * @return {@code F32}, {@code F16} or {@code BF16}
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * One module of a written LoRA.
     *
     * @param key        module key in the file (e.g. {@code lora_te_text_model_encoder_layers_7_mlp_fc2})
     * @param weightName the model weight it changes
     * @param rank       k, the number of stacked edit rows (before any PEFT padding)
     * @param changeIds  the edits stacked into it, in order
     */
    public record Module(String key, String weightName, int rank, List<String> changeIds) {
        /**
         * Copies the list.
         *
         * @param key        module key in the file
         * @param weightName the model weight it changes
         * @param rank       k, the number of stacked edit rows
         * @param changeIds  the edits stacked into it, in order (copied; no null elements)
         */
        public Module {
            changeIds = List.copyOf(changeIds);
        }
    }

    /**
     * The module key (without tensor suffix) of weight {@code weightName} in this exporter's format.
     *
     * @param weightName model weight name ending in {@code .weight}, e.g.
     *                   {@code text_model.encoder.layers.7.mlp.fc2.weight}
     * @return e.g. {@code lora_te_text_model_encoder_layers_7_mlp_fc2} (kohya) or
     *         {@code text_encoder.text_model.encoder.layers.7.mlp.fc2} (PEFT)
     * @throws IllegalArgumentException if {@code weightName} does not end in {@code .weight} or has nothing before it
     */
    public String moduleKey(String weightName) {
        Objects.requireNonNull(weightName, "weightName");
        if (!weightName.endsWith(".weight") || weightName.length() == ".weight".length()) {
            throw new IllegalArgumentException("LoRA module of weight '" + weightName + "': a weight name must end in "
                    + "'.weight' after the module name (e.g. text_model.encoder.layers.7.mlp.fc2.weight)");
        }
        String module = weightName.substring(0, weightName.length() - ".weight".length());
        if (format == LoraFormat.KOHYA) {
            return (encoder == 0 ? "lora_te_" : "lora_te" + encoder + "_") + module.replace('.', '_');
        }
        return (encoder == 2 ? "text_encoder_2." : "text_encoder.") + module;
    }

    /**
     * Writes the LoRA file atomically.
     *
     * @param edits one or more edits, in the order they were made
     * @param out   the {@code .safetensors} file to write (replaced if it exists)
     * @return the modules written, in order of first appearance
     * @throws IllegalArgumentException if there are no edits, an edit (change id) is given twice, or edits of one
     *                                  weight disagree on its shape
     * @throws IOException              if writing fails (an existing {@code out} is then unchanged)
     */
    public List<Module> write(List<EditDelta> edits, Path out) throws IOException {
        Objects.requireNonNull(out, "out");
        if (edits.isEmpty()) {
            throw new IllegalArgumentException("no edits to export");
        }
        Map<String, List<EditDelta>> byWeight = new LinkedHashMap<>();
        Map<String, String> seen = new java.util.HashMap<>();
        for (EditDelta e : edits) {
            String before = seen.putIfAbsent(e.changeId(), e.source());
            if (before != null) {
                throw new IllegalArgumentException("edit " + e.changeId() + " is given twice (" + before + ", "
                        + e.source() + "); each edit can enter the LoRA once");
            }
            List<EditDelta> group = byWeight.computeIfAbsent(e.weightName(), k -> new ArrayList<>());
            if (!group.isEmpty() && (group.get(0).inFeatures() != e.inFeatures()
                    || group.get(0).outFeatures() != e.outFeatures())) {
                throw new IllegalArgumentException(e.source() + ": edits " + e.weightName() + " as "
                        + e.outFeatures() + "x" + e.inFeatures() + " but " + group.get(0).source() + " as "
                        + group.get(0).outFeatures() + "x" + group.get(0).inFeatures());
            }
            group.add(e);
        }
        int maxRank = 0;
        for (List<EditDelta> g : byWeight.values()) {
            maxRank = Math.max(maxRank, g.stream().mapToInt(EditDelta::rank).sum());
        }
        TorchRuntime.ensureLoaded();
        SafetensorsWriter w = new SafetensorsWriter();
        List<Module> modules = new ArrayList<>();
        JsonArray prov = new JsonArray();
        try (PointerScope scope = new PointerScope()) {
            for (Map.Entry<String, List<EditDelta>> entry : byWeight.entrySet()) {
                List<EditDelta> g = entry.getValue();
                int k = g.stream().mapToInt(EditDelta::rank).sum();
                int width = format == LoraFormat.PEFT ? maxRank : k;
                int in = g.get(0).inFeatures();
                int outF = g.get(0).outFeatures();
                float[] down = new float[width * in];
                float[] up = new float[outF * width];
                int row = 0;
                List<String> ids = new ArrayList<>();
                for (EditDelta e : g) {
                    for (int i = 0; i < e.rank(); i++, row++) {
                        System.arraycopy(e.u(i), 0, down, row * in, in);
                        float[] r = e.r(i);
                        for (int o = 0; o < outF; o++) {
                            up[o * width + row] = r[o];
                        }
                    }
                    ids.add(e.changeId());
                    JsonObject p = new JsonObject();
                    p.addProperty("change_id", e.changeId());
                    p.addProperty("source", e.source());
                    p.addProperty("layer", e.layer());
                    p.addProperty("weight", e.weightName());
                    p.addProperty("rows", e.rank());
                    prov.add(p);
                }
                String key = moduleKey(entry.getKey());
                String downName = key + (format == LoraFormat.KOHYA ? ".lora_down.weight" : ".lora_A.weight");
                String upName = key + (format == LoraFormat.KOHYA ? ".lora_up.weight" : ".lora_B.weight");
                w.add(downName, cast(Tensors.floats(down, Tensors.cpu(), width, in)));
                w.add(upName, cast(Tensors.floats(up, Tensors.cpu(), outF, width)));
                if (format == LoraFormat.KOHYA) {
                    w.add(key + ".alpha", cast(Tensors.floats(new float[] {k}, Tensors.cpu())));
                }
                modules.add(new Module(key, entry.getKey(), k, ids));
            }
            if (format == LoraFormat.KOHYA) {
                w.metadata("ss_network_module", "networks.lora");
                w.metadata("ss_network_dim", Integer.toString(maxRank));
                w.metadata("ss_network_alpha", Integer.toString(maxRank));
                w.metadata("ss_network_args", "{}");
            }
            w.metadata("refact.kind", KIND);
            w.metadata("refact.lora_format", format.cliName());
            w.metadata("refact.encoder", Integer.toString(encoder));
            w.metadata("refact.edits", prov.toString());
            w.metadata("refact.library_version", EditProvenance.currentLibraryVersion());
            w.write(out);
        }
        return modules;
    }

    private Tensor cast(Tensor t) {
        return dtype == DType.F32 ? t : t.to(dtype.scalarType());
    }

    /** Builds {@link LoraExporter}s. */
    public static final class Builder {
        private LoraFormat format = LoraFormat.KOHYA;
        private int encoder;
        private DType dtype = DType.F32;

        private Builder() {
        }

        /**
         * {@link LoraFormat#KOHYA} (default) or {@link LoraFormat#PEFT}.
         *
         * @param format the key layout to write (not null)
         * @return this builder
         * @throws IllegalArgumentException for {@link LoraFormat#DIFFUSERS_LEGACY}, which is only read
         */
        public Builder format(LoraFormat format) {
            Objects.requireNonNull(format, "format");
            if (format == LoraFormat.DIFFUSERS_LEGACY) {
                throw new IllegalArgumentException("the older diffusers LoRA layout is read, not written; use kohya or "
                        + "peft");
            }
            this.format = format;
            return this;
        }

        /**
         * 0 (default): a model with one text encoder ({@code lora_te_}, {@code text_encoder.}); 1 or 2: SDXL's
         * first or second encoder ({@code lora_te1_}/{@code lora_te2_}, {@code text_encoder.}/{@code text_encoder_2.}).
         *
         * @param encoder 0, 1 or 2
         * @return this builder
         * @throws IllegalArgumentException for other values
         */
        public Builder encoder(int encoder) {
            if (encoder < 0 || encoder > 2) {
                throw new IllegalArgumentException("encoder must be 1 or 2 (or 0 for a single text encoder), got "
                        + encoder);
            }
            this.encoder = encoder;
            return this;
        }

        /**
         * F32 (default), F16 or BF16.
         *
         * @param dtype dtype of the factors on disk
         * @return this builder
         * @throws IllegalArgumentException for other dtypes (or null)
         */
        public Builder dtype(DType dtype) {
            if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
                throw new IllegalArgumentException("LoRA dtype must be f32, f16 or bf16, got " + dtype);
            }
            this.dtype = dtype;
            return this;
        }

        /**
         * The exporter.
         *
         * @return a new exporter with this builder's format, encoder and dtype
         */
        public LoraExporter build() {
            return new LoraExporter(this);
        }
    }
}
