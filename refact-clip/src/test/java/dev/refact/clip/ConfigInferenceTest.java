package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.refact.clip.io.DType;
import dev.refact.clip.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Shape inference on the real checkpoints' header shapes (no weights needed): SD 1.5, SD 2.x and SDXL's two
 * encoders give the configs diffusers ships for them.
 */
final class ConfigInferenceTest {
    static final Path FILE = Path.of("header-only.safetensors");

    private static void put(Map<String, TensorInfo> m, String name, long... shape) {
        m.put(name, new TensorInfo(name, DType.F16, shape, 0, 0));
    }

    private static Map<String, TensorInfo> openClip(String p, int d, int mlp, int blocks, boolean projection) {
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        put(m, p + "token_embedding.weight", 49408, d);
        put(m, p + "positional_embedding", 77, d);
        for (int i = 0; i < blocks; i++) {
            String b = p + "transformer.resblocks." + i + ".";
            put(m, b + "attn.in_proj_weight", 3L * d, d);
            put(m, b + "mlp.c_fc.weight", mlp, d);
            put(m, b + "mlp.c_proj.weight", d, mlp);
        }
        if (projection) {
            put(m, p + "text_projection", d, 1280);
        }
        return m;
    }

    private static List<Object> fields(ClipTextConfig c) {
        return List.of(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                c.maxPositionEmbeddings(), c.vocabSize(), c.hiddenAct(), c.projectionDim());
    }

    @Test
    void inferOpenClip_sd2Header_givesTheDiffusers23LayerEncoder() throws IOException {
        ClipTextConfig c = TextEncoderCheckpoint.inferOpenClip(FILE,
                openClip(TextEncoderCheckpoint.SD2_PREFIX, 1024, 4096, 24, true), TextEncoderCheckpoint.SD2_PREFIX, true);
        assertEquals(fields(ClipTextConfig.SD2), fields(c));
    }

    @Test
    void inferOpenClip_sdxlBigGHeader_keepsAll32LayersAndProjection() throws IOException {
        ClipTextConfig c = TextEncoderCheckpoint.inferOpenClip(FILE,
                openClip(TextEncoderCheckpoint.SDXL2_PREFIX, 1280, 5120, 32, true), TextEncoderCheckpoint.SDXL2_PREFIX,
                false);
        assertEquals(fields(ClipTextConfig.SDXL_2), fields(c));
    }

    @Test
    void inferHf_sd15Header_withAndWithoutInfix_givesViTL() throws IOException {
        for (String infix : new String[] {"text_model.", ""}) {
            String p = TextEncoderCheckpoint.SD1_PREFIX + infix;
            Map<String, TensorInfo> m = new LinkedHashMap<>();
            put(m, p + "embeddings.token_embedding.weight", 49408, 768);
            put(m, p + "embeddings.position_embedding.weight", 77, 768);
            for (int i = 0; i < 12; i++) {
                put(m, p + "encoder.layers." + i + ".mlp.fc1.weight", 3072, 768);
            }
            ClipTextConfig c = TextEncoderCheckpoint.inferHf(FILE, m, TextEncoderCheckpoint.SD1_PREFIX,
                    TextEncoderFamily.SD1);
            assertEquals(List.of(768, 3072, 12, 12, 77, 49408, "quick_gelu", 0), fields(c), "infix '" + infix + "'");
            assertEquals(fields(ClipTextConfig.SDXL_1), fields(c), "SDXL encoder 1 is the same tower");
        }
    }

    @Test
    void inferHf_hugeLayerIndex_refusedNamingTheTensor() {
        String p = TextEncoderCheckpoint.SD1_PREFIX + "text_model.";
        for (String index : new String[] {"99999999999", "5000"}) {
            Map<String, TensorInfo> m = new LinkedHashMap<>();
            put(m, p + "embeddings.token_embedding.weight", 49408, 768);
            put(m, p + "embeddings.position_embedding.weight", 77, 768);
            put(m, p + "encoder.layers.0.mlp.fc1.weight", 3072, 768);
            put(m, p + "encoder.layers." + index + ".mlp.fc1.weight", 3072, 768);
            dev.refact.clip.io.CheckpointFormatException e = org.junit.jupiter.api.Assertions.assertThrows(
                    dev.refact.clip.io.CheckpointFormatException.class, () -> TextEncoderCheckpoint.inferHf(FILE, m,
                            TextEncoderCheckpoint.SD1_PREFIX, TextEncoderFamily.SD1));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("encoder.layers." + index)
                    && e.getMessage().contains("out of range"), e.getMessage());
        }
    }
}
