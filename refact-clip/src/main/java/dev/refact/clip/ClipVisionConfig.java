package dev.refact.clip;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonSyntaxException;
import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The architecture of a CLIP vision tower, read from a Hugging Face {@code config.json}
 * ({@code CLIPVisionConfig}, or the {@code vision_config} of a full {@code CLIPConfig}).
 *
 * @param hiddenSize        width W of the residual stream (1024 for ViT-L/14)
 * @param intermediateSize  MLP width (4096)
 * @param numHiddenLayers   transformer layers (24)
 * @param numAttentionHeads attention heads (16); must divide {@code hiddenSize}
 * @param imageSize         input side S in pixels (224; 336 for the -336 models)
 * @param patchSize         patch side P (14); must divide {@code imageSize}
 * @param hiddenAct         {@code quick_gelu} (OpenAI CLIP) or {@code gelu} (most LAION models)
 * @param layerNormEps      LayerNorm epsilon (1e-5)
 * @param projectionDim     width of {@code visual_projection} output, or 0 when the config names none
 */
public record ClipVisionConfig(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
        int imageSize, int patchSize, String hiddenAct, double layerNormEps, int projectionDim) {

    /** Largest accepted {@code hidden_size} and {@code projection_dim}: 2<sup>16</sup> (bigG/14: 1664). */
    static final int MAX_WIDTH = 1 << 16;
    /** Largest accepted {@code intermediate_size}: 2<sup>18</sup> (bigG/14: 8192). */
    static final int MAX_MLP_WIDTH = 1 << 18;
    /** Largest accepted {@code num_hidden_layers} and {@code num_attention_heads} (as for the text tower). */
    static final int MAX_LAYERS_OR_HEADS = 1024;
    /** Largest accepted {@code image_size} in pixels (CLIP towers use 224 or 336). */
    static final int MAX_IMAGE_SIZE = 4096;

    /**
     * Validates the numbers. The upper bounds are checked before anything is allocated from them (the layer array,
     * the image and patch arithmetic); they are far above every real CLIP vision tower (ViT-B/32, B/16, L/14,
     * L/14-336, H/14, bigG/14: at most 1664 wide, MLP 8192, 48 layers, 16 heads, image 336) and keep every derived
     * count ({@code (S/P)² + 1} positions, {@code 3·P·P} patch values) within {@code int}.
     *
     * @param hiddenSize        width W, in [1, 2<sup>16</sup>]
     * @param intermediateSize  MLP width, in [1, 2<sup>18</sup>]
     * @param numHiddenLayers   number of layers, in [1, 1024]
     * @param numAttentionHeads attention heads, in [1, 1024], dividing {@code hiddenSize}
     * @param imageSize         input side S in pixels, in [1, 4096], a multiple of {@code patchSize}
     * @param patchSize         patch side P in pixels, in [1, {@code imageSize}]
     * @param hiddenAct         {@code quick_gelu} or {@code gelu}, any case (stored lower-cased); not null
     * @param layerNormEps      LayerNorm epsilon, in (0, 1]
     * @param projectionDim     {@code visual_projection} output width, in [0, 2<sup>16</sup>] (0 = none)
     * @throws IllegalArgumentException naming the field and its value, for a size out of range, heads that do not
     *                                  divide the width, a patch that does not divide the image, or an unsupported
     *                                  activation
     */
    public ClipVisionConfig {
        bounded(hiddenSize, "hidden_size", 1, MAX_WIDTH, "");
        bounded(intermediateSize, "intermediate_size", 1, MAX_MLP_WIDTH, "");
        bounded(numHiddenLayers, "num_hidden_layers", 1, MAX_LAYERS_OR_HEADS, "");
        bounded(numAttentionHeads, "num_attention_heads", 1, MAX_LAYERS_OR_HEADS, "");
        bounded(imageSize, "image_size", 1, MAX_IMAGE_SIZE, "");
        bounded(patchSize, "patch_size", 1, imageSize, "image_size ");
        bounded(projectionDim, "projection_dim", 0, MAX_WIDTH, "");
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("vision hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image_size " + imageSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        hiddenAct = ConfigFields.activation(hiddenAct, "vision ");
        ConfigFields.layerNormEps(layerNormEps);
    }

    /**
     * Patches per side, {@code S / P}.
     *
     * @return {@code imageSize / patchSize} (16 for ViT-L/14 at 224)
     */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /**
     * Tokens per image: the class token plus {@code (S/P)²} patches.
     *
     * @return {@code gridSize()² + 1} (257 for ViT-L/14 at 224)
     */
    public int numPositions() {
        return gridSize() * gridSize() + 1;
    }

    /**
     * Reads {@code config.json}; for a full CLIPModel config the {@code vision_config} section is used
     * (with HF's {@code CLIPVisionConfig} defaults for absent fields).
     *
     * @param configJson path of a {@code CLIPVisionConfig} or full {@code CLIPConfig} {@code config.json}
     * @return the validated config
     * @throws CheckpointFormatException if the file is not JSON or a field is missing or wrong
     * @throws IOException if the file cannot be read (missing, too large, not UTF-8)
     */
    public static ClipVisionConfig read(Path configJson) throws IOException {
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
        boolean full = root.has("vision_config") && root.get("vision_config").isJsonObject();
        if (!full && root.has("text_config")) {
            throw new CheckpointFormatException(configJson, "has text_config but no vision_config: not a full "
                    + "CLIPModel (a text encoder alone cannot classify images)");
        }
        JsonObject c = full ? root.getAsJsonObject("vision_config") : root;
        try {
            return new ClipVisionConfig(
                    ConfigFields.intField(configJson, c, "hidden_size", 768),
                    ConfigFields.intField(configJson, c, "intermediate_size", 3072),
                    ConfigFields.intField(configJson, c, "num_hidden_layers", 12),
                    ConfigFields.intField(configJson, c, "num_attention_heads", 12),
                    ConfigFields.intField(configJson, c, "image_size", 224),
                    ConfigFields.intField(configJson, c, "patch_size", 32),
                    c.has("hidden_act") ? c.get("hidden_act").getAsString() : "quick_gelu",
                    c.has("layer_norm_eps") ? c.get("layer_norm_eps").getAsDouble() : 1e-5,
                    ConfigFields.intField(configJson, root, "projection_dim", ConfigFields.intField(configJson, c, "projection_dim", 0)));
        } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw new CheckpointFormatException(configJson, e.getMessage(), e);
        }
    }

    /** Refuses {@code v} outside [{@code min}, {@code max}] in one line naming the field and the value. */
    private static void bounded(int v, String name, int min, int max, String maxName) {
        if (v < min) {
            throw new IllegalArgumentException("vision " + name + (min == 1 ? " must be positive" : " must be >= " + min)
                    + ", got " + v);
        }
        if (v > max) {
            throw new IllegalArgumentException("vision " + name + " = " + v + " is out of range (at most " + maxName
                    + max + ")");
        }
    }
}
