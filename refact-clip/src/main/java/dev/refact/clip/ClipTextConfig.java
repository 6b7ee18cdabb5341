package dev.refact.clip;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The architecture of a CLIP text encoder, read from a Hugging Face {@code config.json}
 * ({@code CLIPTextConfig}, or the {@code text_config} of a full {@code CLIPConfig}).
 *
 * @param hiddenSize            width d of the residual stream (768 for SD 1.x)
 * @param intermediateSize      MLP width (3072 for SD 1.x): the fc2 input, the edited key space
 * @param numHiddenLayers       number of transformer layers (12)
 * @param numAttentionHeads     attention heads (12); must divide {@code hiddenSize}
 * @param maxPositionEmbeddings positions (77)
 * @param vocabSize             token vocabulary (49408)
 * @param hiddenAct             {@code quick_gelu} (SD 1.x) or {@code gelu} (SD 2.x)
 * @param layerNormEps          LayerNorm epsilon (1e-5)
 * @param projectionDim         width of {@code text_projection} output, or 0 when the config names none
 * @param padTokenId            pad id of the config (informational; SD pads with the end token)
 * @param eosTokenId            end id of the config; the legacy value 2 means "pool at argmax(input_ids)"
 */
public record ClipTextConfig(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                             int maxPositionEmbeddings, int vocabSize, String hiddenAct, double layerNormEps,
                             int projectionDim, int padTokenId, int eosTokenId) {

    /** The SD 1.x text encoder (openai/clip-vit-large-patch14 text tower). */
    public static final ClipTextConfig SD15 = new ClipTextConfig(768, 3072, 12, 12, 77, 49408, "quick_gelu",
            1e-5, 768, 1, 2);

    /**
     * The SD 2.x text encoder as diffusers converts it: OpenCLIP ViT-H/14 text tower without its last block
     * (23 × 1024, MLP 4096, 16 heads, gelu, no projection), pads with 0.
     */
    public static final ClipTextConfig SD2 = new ClipTextConfig(1024, 4096, 23, 16, 77, 49408, "gelu", 1e-5, 0, 0, 2);

    /** SDXL's first text encoder: CLIP ViT-L/14 text tower (12 × 768, quick_gelu, no projection). */
    public static final ClipTextConfig SDXL_1 = new ClipTextConfig(768, 3072, 12, 12, 77, 49408, "quick_gelu", 1e-5,
            0, 49407, 2);

    /** SDXL's second text encoder: OpenCLIP bigG/14 text tower (32 × 1280, MLP 5120, 20 heads, gelu, projection 1280). */
    public static final ClipTextConfig SDXL_2 = new ClipTextConfig(1280, 5120, 32, 20, 77, 49408, "gelu", 1e-5, 1280,
            0, 2);

    /**
     * Validates the numbers.
     *
     * @param hiddenSize            width d, in [1, 2<sup>20</sup>]
     * @param intermediateSize      MLP width, in [1, 2<sup>20</sup>]
     * @param numHiddenLayers       number of layers, in [1, 1024]
     * @param numAttentionHeads     attention heads, in [1, 1024], dividing {@code hiddenSize}
     * @param maxPositionEmbeddings positions, in [1, 2<sup>20</sup>]
     * @param vocabSize             vocabulary size, in [1, 2<sup>20</sup>]
     * @param hiddenAct             {@code quick_gelu} or {@code gelu}, any case (stored lower-cased); not null
     * @param layerNormEps          LayerNorm epsilon, in (0, 1]
     * @param projectionDim         {@code text_projection} output width, &gt;= 0 (0 = none)
     * @param padTokenId            pad id of the config (not checked)
     * @param eosTokenId            end id of the config (not checked); 2 selects argmax pooling
     * @throws IllegalArgumentException for non-positive sizes, heads that do not divide the width, or an
     *                                  unsupported activation
     */
    public ClipTextConfig {
        positive(hiddenSize, "hidden_size");
        positive(intermediateSize, "intermediate_size");
        positive(numHiddenLayers, "num_hidden_layers");
        positive(numAttentionHeads, "num_attention_heads");
        positive(maxPositionEmbeddings, "max_position_embeddings");
        positive(vocabSize, "vocab_size");
        if (projectionDim < 0) {
            throw new IllegalArgumentException("projection_dim must be >= 0, got " + projectionDim);
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        hiddenAct = ConfigFields.activation(hiddenAct, "");
        ConfigFields.layerNormEps(layerNormEps);
    }

    /**
     * Head width {@code hiddenSize / numAttentionHeads}.
     *
     * @return {@code hiddenSize / numAttentionHeads} (64 for SD 1.x)
     */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * A copy with another projection width (0 = none).
     *
     * @param dim the new {@code projectionDim}, &gt;= 0 (0 = no projection)
     * @return a new config, equal to this one except for {@code projectionDim}
     * @throws IllegalArgumentException if {@code dim} is negative
     */
    public ClipTextConfig withProjectionDim(int dim) {
        return new ClipTextConfig(hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                maxPositionEmbeddings, vocabSize, hiddenAct, layerNormEps, dim, padTokenId, eosTokenId);
    }

    /**
     * Reads {@code config.json}; for a full CLIPModel config the {@code text_config} section is used.
     *
     * @param configJson path of a {@code CLIPTextConfig} or full {@code CLIPConfig} {@code config.json}; absent fields
     *                   take HF's {@code CLIPTextConfig} defaults
     * @return the validated config
     * @throws CheckpointFormatException if the file is not JSON or a required field is missing or wrong
     * @throws IOException if the file cannot be read (missing, too large, not UTF-8)
     */
    public static ClipTextConfig read(Path configJson) throws IOException {
        JsonObject root;
        try {
            JsonElement e = JsonParser.parseString(dev.refact.clip.io.TextFiles.readString(configJson, dev.refact.clip.io.TextFiles.MAX_JSON_BYTES));
            if (!e.isJsonObject()) {
                throw new CheckpointFormatException(configJson, "not a JSON object");
            }
            root = e.getAsJsonObject();
        } catch (JsonSyntaxException e) {
            throw new CheckpointFormatException(configJson, "invalid JSON: " + e.getMessage(), e);
        }
        JsonObject c = root.has("text_config") && root.get("text_config").isJsonObject()
                ? root.getAsJsonObject("text_config") : root;
        int projectionDim = ConfigFields.intField(configJson, root, "projection_dim", ConfigFields.intField(configJson, c, "projection_dim", 0));
        try {
            return new ClipTextConfig(
                    ConfigFields.intField(configJson, c, "hidden_size", 512),
                    ConfigFields.intField(configJson, c, "intermediate_size", 2048),
                    ConfigFields.intField(configJson, c, "num_hidden_layers", 12),
                    ConfigFields.intField(configJson, c, "num_attention_heads", 8),
                    ConfigFields.intField(configJson, c, "max_position_embeddings", 77),
                    ConfigFields.intField(configJson, c, "vocab_size", 49408),
                    c.has("hidden_act") ? c.get("hidden_act").getAsString() : "quick_gelu",
                    c.has("layer_norm_eps") ? c.get("layer_norm_eps").getAsDouble() : 1e-5,
                    projectionDim,
                    ConfigFields.intField(configJson, c, "pad_token_id", 1),
                    ConfigFields.intField(configJson, c, "eos_token_id", 2));
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw new CheckpointFormatException(configJson, e.getMessage(), e);
        }
    }

    /**
     * The config as HF {@code config.json} text ({@code CLIPTextModel}).
     *
     * @return pretty-printed JSON with a trailing newline, as {@code CLIPTextModel} or (with a projection)
     *         {@code CLIPTextModelWithProjection}, float32
     */
    public String toJson() {
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray arch = new com.google.gson.JsonArray();
        arch.add(projectionDim > 0 ? "CLIPTextModelWithProjection" : "CLIPTextModel");
        o.add("architectures", arch);
        o.addProperty("model_type", "clip_text_model");
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("hidden_size", hiddenSize);
        o.addProperty("intermediate_size", intermediateSize);
        if (projectionDim > 0) {
            o.addProperty("projection_dim", projectionDim);
        }
        o.addProperty("num_hidden_layers", numHiddenLayers);
        o.addProperty("num_attention_heads", numAttentionHeads);
        o.addProperty("max_position_embeddings", maxPositionEmbeddings);
        o.addProperty("hidden_act", hiddenAct);
        o.addProperty("layer_norm_eps", layerNormEps);
        o.addProperty("attention_dropout", 0.0);
        o.addProperty("dropout", 0.0);
        o.addProperty("bos_token_id", 0);
        o.addProperty("eos_token_id", eosTokenId);
        o.addProperty("pad_token_id", padTokenId);
        o.addProperty("torch_dtype", "float32");
        return new com.google.gson.GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }


    private static void positive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
        int max = name.equals("num_hidden_layers") || name.equals("num_attention_heads") ? 1024 : 1 << 20;
        if (v > max) { // checked before anything is allocated from it
            throw new IllegalArgumentException(name + " = " + v + " is out of range (at most " + max + ")");
        }
    }
}
