package dev.refact.clip.testing;

import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Builds single-file Stable Diffusion checkpoints (SD 1.x LDM, SD 2.x OpenCLIP, SDXL) from HF-named text
 * encoders such as {@code ../shared/data/models/tiny-random-clip-text}, in temp folders: keys renamed to each
 * layout, dtypes cast, q|k|v packed into {@code in_proj}, the projection transposed, an extra last block for the
 * SD 2.x penultimate rule, and unrelated UNet/VAE tensors and {@code position_ids} added. Every method must be
 * called inside an open {@link PointerScope} (tensors are temporaries).
 */
public final class CheckpointFixtures {
    /** Tensors that are not part of any text encoder, as found in real single files. */
    public static final String UNET_KEY = "model.diffusion_model.input_blocks.0.0.weight";
    /** A VAE tensor. */
    public static final String VAE_KEY = "first_stage_model.decoder.conv_in.weight";
    /** The noise schedule. */
    public static final String SCHEDULE_KEY = "alphas_cumprod";

    private CheckpointFixtures() {
    }

    /** The tiny HF text encoder folder used by most tests. */
    public static Path tinyText() {
        return SharedData.resolve("models/tiny-random-clip-text");
    }

    /** All tensors of an HF text-encoder weights file (text_model.* and text_projection.weight), float32. */
    public static Map<String, Tensor> readHf(Path safetensors) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(safetensors); Device cpu = Tensors.cpu()) {
            for (String n : f.names()) {
                if (n.startsWith("text_model.") || n.equals("text_projection.weight")) {
                    out.put(n, Tensors.handOff(f.toTensor(n, ScalarType.Float, cpu)));
                }
            }
        }
        return out;
    }

    /** Unrelated tensors every single file carries (UNet, VAE, schedule). */
    public static void addUnrelated(Map<String, Tensor> out) {
        try (Device cpu = Tensors.cpu()) {
            out.put(UNET_KEY, Tensors.floats(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, cpu, 2, 4).to(ScalarType.Half));
            out.put(VAE_KEY, Tensors.floats(new float[] {0.5f, -1, 2, 7}, cpu, 2, 2));
            out.put(SCHEDULE_KEY, Tensors.floats(new float[] {0.99f, 0.98f, 0.5f}, cpu, 3));
        }
    }

    /**
     * SD 1.x LDM keys: {@code cond_stage_model.transformer.[text_model.]*} (no projection), plus
     * {@code position_ids} in {@code positionIdsDtype} (Long or Float) unless null.
     */
    public static Map<String, Tensor> ldmClip(Map<String, Tensor> hf, String prefix, boolean infix,
                                              ScalarType positionIdsDtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : hf.entrySet()) {
            if (!e.getKey().startsWith("text_model.")) {
                continue;
            }
            String k = infix ? e.getKey() : e.getKey().substring("text_model.".length());
            out.put(prefix + k, e.getValue());
        }
        if (positionIdsDtype != null) {
            try (Device cpu = Tensors.cpu()) {
                long n = hf.get("text_model.embeddings.position_embedding.weight").size(0);
                out.put(prefix + (infix ? "text_model." : "") + "embeddings.position_ids",
                        torch.arange(new org.bytedeco.pytorch.Scalar(n), Tensors.options(ScalarType.Long, cpu))
                                .reshape(1, n).to(positionIdsDtype));
            }
        }
        return out;
    }

    private static final Pattern LAYER = Pattern.compile("text_model\\.encoder\\.layers\\.(\\d+)\\.(.*)");

    /**
     * OpenCLIP keys under {@code prefix}: q|k|v packed into {@code in_proj}, {@code text_projection} [d, e] =
     * HF weightᵀ (when the HF model has one), {@code logit_scale}; with {@code extraLastBlock} a copy of block 0
     * (with scaled weights, so it would change the output) is appended as the last block, which SD 2.x must drop.
     */
    public static Map<String, Tensor> openClip(Map<String, Tensor> hf, String prefix, boolean extraLastBlock) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(prefix + "positional_embedding", hf.get("text_model.embeddings.position_embedding.weight"));
        out.put(prefix + "token_embedding.weight", hf.get("text_model.embeddings.token_embedding.weight"));
        int layers = 0;
        for (String k : hf.keySet()) {
            Matcher m = LAYER.matcher(k);
            if (m.matches()) {
                layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
        }
        for (int i = 0; i < layers + (extraLastBlock ? 1 : 0); i++) {
            int from = i < layers ? i : 0;
            String l = "text_model.encoder.layers." + from + ".";
            String b = prefix + "transformer.resblocks." + i + ".";
            double scale = i < layers ? 1.0 : 1.7;
            java.util.function.Function<String, Tensor> g = n -> scale == 1.0 ? hf.get(l + n)
                    : hf.get(l + n).mul(new org.bytedeco.pytorch.Scalar(scale));
            out.put(b + "ln_1.weight", g.apply("layer_norm1.weight"));
            out.put(b + "ln_1.bias", g.apply("layer_norm1.bias"));
            out.put(b + "attn.in_proj_weight", torch.cat(new org.bytedeco.pytorch.TensorVector(
                    g.apply("self_attn.q_proj.weight"), g.apply("self_attn.k_proj.weight"),
                    g.apply("self_attn.v_proj.weight")), 0));
            out.put(b + "attn.in_proj_bias", torch.cat(new org.bytedeco.pytorch.TensorVector(
                    g.apply("self_attn.q_proj.bias"), g.apply("self_attn.k_proj.bias"),
                    g.apply("self_attn.v_proj.bias")), 0));
            out.put(b + "attn.out_proj.weight", g.apply("self_attn.out_proj.weight"));
            out.put(b + "attn.out_proj.bias", g.apply("self_attn.out_proj.bias"));
            out.put(b + "ln_2.weight", g.apply("layer_norm2.weight"));
            out.put(b + "ln_2.bias", g.apply("layer_norm2.bias"));
            out.put(b + "mlp.c_fc.weight", g.apply("mlp.fc1.weight"));
            out.put(b + "mlp.c_fc.bias", g.apply("mlp.fc1.bias"));
            out.put(b + "mlp.c_proj.weight", g.apply("mlp.fc2.weight"));
            out.put(b + "mlp.c_proj.bias", g.apply("mlp.fc2.bias"));
        }
        out.put(prefix + "ln_final.weight", hf.get("text_model.final_layer_norm.weight"));
        out.put(prefix + "ln_final.bias", hf.get("text_model.final_layer_norm.bias"));
        if (hf.containsKey("text_projection.weight")) {
            out.put(prefix + "text_projection", hf.get("text_projection.weight").t().contiguous());
        }
        try (Device cpu = Tensors.cpu()) {
            out.put(prefix + "logit_scale", Tensors.floats(new float[] {4.6052f}, cpu));
        }
        return out;
    }

    /** Casts every floating-point tensor except {@code position_ids} to {@code dtype}. */
    public static Map<String, Tensor> cast(Map<String, Tensor> in, ScalarType dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : in.entrySet()) {
            Tensor t = e.getValue();
            boolean isFloat = t.is_floating_point();
            out.put(e.getKey(), isFloat && !e.getKey().endsWith("position_ids") ? t.to(dtype) : t);
        }
        return out;
    }

    /** Writes the tensors (each in its own dtype) with {@code __metadata__} entries. */
    public static Path write(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        metadata.forEach(w::metadata);
        tensors.forEach(w::add);
        Files.createDirectories(file.toAbsolutePath().getParent());
        w.write(file);
        return file;
    }

    /** Copies the tiny encoder's {@code config.json} beside a single file (its width 32 is not a multiple of 64). */
    public static void configBeside(Path file, Path modelFolder) throws IOException {
        Files.copy(modelFolder.resolve("config.json"), file.toAbsolutePath().getParent().resolve("config.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** The raw stored bytes of one tensor (what a write-back must preserve). */
    public static byte[] rawBytes(Path file, String name) throws IOException {
        TensorInfo info;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            info = f.info(name);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long start = 8 + len.getLong(0);
            ByteBuffer b = ByteBuffer.allocate((int) info.byteLength());
            while (b.hasRemaining()) {
                if (ch.read(b, start + info.begin() + b.position()) < 0) {
                    throw new IOException("short read");
                }
            }
            return b.array();
        }
    }
}
