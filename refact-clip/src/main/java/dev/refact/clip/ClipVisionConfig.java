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

    /**
     * Validates the numbers.
     *
     * @param hiddenSize        width W, &gt; 0
     * @param intermediateSize  MLP width, &gt; 0
     * @param numHiddenLayers   number of layers, &gt; 0
     * @param numAttentionHeads attention heads, &gt; 0, dividing {@code hiddenSize}
     * @param imageSize         input side S in pixels, &gt; 0, a multiple of {@code patchSize}
     * @param patchSize         patch side P in pixels, &gt; 0
     * @param hiddenAct         {@code quick_gelu} or {@code gelu}, any case (stored lower-cased); not null
     * @param layerNormEps      LayerNorm epsilon, in (0, 1]
     * @param projectionDim     {@code visual_projection} output width, &gt;= 0 (0 = none)
     * @throws IllegalArgumentException for non-positive sizes, heads that do not divide the width, a patch
     *                                  that does not divide the image, or an unsupported activation
     */
    public ClipVisionConfig {
        for (int[] v : new int[][] {{hiddenSize}, {intermediateSize}, {numHiddenLayers}, {numAttentionHeads},
                {imageSize}, {patchSize}}) {
            if (v[0] <= 0) {
                throw new IllegalArgumentException("vision sizes must be positive: hidden " + hiddenSize + ", mlp "
                        + intermediateSize + ", layers " + numHiddenLayers + ", heads " + numAttentionHeads + ", image "
                        + imageSize + ", patch " + patchSize);
            }
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("vision hidden_size " + hiddenSize
                    + " is not divisible by num_attention_heads " + numAttentionHeads);
        }
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException("image_size " + imageSize + " is not a multiple of patch_size "
                    + patchSize);
        }
        if (projectionDim < 0) {
            throw new IllegalArgumentException("projection_dim must be >= 0, got " + projectionDim);
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

}
