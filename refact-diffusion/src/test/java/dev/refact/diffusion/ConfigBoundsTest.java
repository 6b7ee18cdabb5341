package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile or damaged numbers in unet/vae config.json are refused before anything is built; image sizes bounded. */
final class ConfigBoundsTest {
    @TempDir
    Path dir;

    /** The fixture's config with one {@code "key": value} replaced (value as JSON text). */
    private Path withValue(String component, String key, String json) throws IOException {
        String text = Files.readString(Golden.component(component + "/config.json"));
        String replaced = text.replaceFirst("\"" + key + "\"\\s*:\\s*[^,\\n}]+", "\"" + key + "\": " + json);
        assertTrue(!replaced.equals(text) || text.contains("\"" + key + "\": " + json), key);
        Path f = Files.createDirectories(dir.resolve(component)).resolve("config.json");
        Files.writeString(f, replaced);
        return f;
    }

    private static String refused(Path f, boolean unet) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> {
                    if (unet) {
                        UNetConfig.read(f);
                    } else {
                        VaeConfig.read(f);
                    }
                });
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void unetConfig_normEpsNaN_refusedNamingField() throws IOException {
        String m = refused(withValue("unet", "norm_eps", "NaN"), true);
        assertTrue(m.contains("norm_eps = NaN is not a finite number"), m);
    }

    @Test
    void unetConfig_layersPerBlockHuge_refusedBeforeAllocation() throws IOException {
        String m = refused(withValue("unet", "layers_per_block", "100000000"), true);
        assertTrue(m.contains("layers_per_block = 100000000 is out of range"), m);
    }

    @Test
    void unetConfig_normNumGroupsZero_refusedNotDivisionByZero() throws IOException {
        String m = refused(withValue("unet", "norm_num_groups", "0"), true);
        assertTrue(m.contains("norm_num_groups = 0 is out of range"), m);
    }

    @Test
    void vaeConfig_normNumGroupsZeroAndHugeChannels_refused() throws IOException {
        assertTrue(refused(withValue("vae", "norm_num_groups", "0"), false).contains("norm_num_groups"));
        assertTrue(refused(withValue("vae", "layers_per_block", "100000000"), false).contains("layers_per_block"));
        assertTrue(refused(withValue("vae", "scaling_factor", "Infinity"), false).contains("scaling_factor"));
    }

    @Test
    void unetConfig_fixture_stillAccepted() throws IOException {
        assertEquals(2, UNetConfig.read(withValue("unet", "layers_per_block", "2")).layersPerBlock());
    }

    @Test
    void generationOptions_width100000_refusedBeforeAllocation() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GenerationOptions(2, 7.5, SchedulerKind.PNDM, 0, 512, 100_000));
        assertEquals("height and width must be at most 2048 px, got 512x100000", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(2, 7.5, SchedulerKind.PNDM, 0, 512, 100));
    }
}
