package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vision tower's config: every real CLIP vision tower fits, hostile sizes are refused before allocation. */
final class ClipVisionConfigTest {
    private static ClipVisionConfig vision(int hidden, int mlp, int layers, int heads, int image, int patch) {
        return new ClipVisionConfig(hidden, mlp, layers, heads, image, patch, "gelu", 1e-5, 512);
    }

    @Test
    void constructor_realClipVisionTowers_accepted() {
        vision(768, 3072, 12, 12, 224, 32);   // ViT-B/32
        vision(768, 3072, 12, 12, 224, 16);   // ViT-B/16
        vision(1024, 4096, 24, 16, 224, 14);  // ViT-L/14
        vision(1024, 4096, 24, 16, 336, 14);  // ViT-L/14-336
        vision(1280, 5120, 32, 16, 224, 14);  // ViT-H/14
        ClipVisionConfig bigG = vision(1664, 8192, 48, 16, 224, 14); // ViT-bigG/14
        assertEquals(257, bigG.numPositions());
    }

    @Test
    void constructor_hugeSizes_refusedNamingFieldAndValue() {
        assertRefused("hidden_size = 1048576", () -> vision(1 << 20, 3072, 12, 16, 224, 14));
        assertRefused("intermediate_size = 1073741824", () -> vision(768, 1 << 30, 12, 12, 224, 14));
        assertRefused("num_hidden_layers = 2147483647", () -> vision(768, 3072, Integer.MAX_VALUE, 12, 224, 14));
        assertRefused("num_attention_heads = 2048", () -> vision(2048, 3072, 12, 2048, 224, 14));
        assertRefused("image_size = 1073741824", () -> vision(768, 3072, 12, 12, 1 << 30, 1 << 15));
        assertRefused("patch_size = 448", () -> vision(768, 3072, 12, 12, 224, 448));
        assertRefused("hidden_size must be positive, got 0", () -> vision(0, 3072, 12, 12, 224, 14));
        assertRefused("projection_dim = 1073741824", () -> new ClipVisionConfig(768, 3072, 12, 12, 224, 32, "gelu",
                1e-5, 1 << 30));
    }

    @Test
    void read_hostileLayerCount_refusedNamingFileFieldAndValue(@TempDir Path tmp) throws IOException {
        Path config = Files.writeString(tmp.resolve("config.json"), "{\"vision_config\": {\"hidden_size\": 768, "
                + "\"num_hidden_layers\": 2000000000, \"image_size\": 224, \"patch_size\": 32}}");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> ClipVisionConfig.read(config));
        assertTrue(e.getMessage().contains(config.toString()) && e.getMessage().contains("num_hidden_layers = 2000000000"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static void assertRefused(String expected, org.junit.jupiter.api.function.Executable make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make);
        assertTrue(e.getMessage().contains(expected) && e.getMessage().startsWith("vision "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
