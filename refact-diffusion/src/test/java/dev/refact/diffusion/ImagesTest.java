package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pixel conversion (diffusers rounding), PNG writing and grids. */
final class ImagesTest {

    @Test
    void toByte_roundingBoundaries_halfToEvenOnFloatProduct() {
        assertEquals(0, Images.toByte(-1f));
        assertEquals(255, Images.toByte(1f));
        assertEquals(255, Images.toByte(7f));
        assertEquals(0, Images.toByte(-3f));
        // v = 0.5 → 127.5 → rint → 128 (even)
        assertEquals(128, Images.toByte(0f));
        // 2.5/255 → v*255 = 2.5 exactly? the float product decides, as numpy does
        float x = (2.5f / 255f - 0.5f) * 2f;
        float v = x / 2f + 0.5f;
        assertEquals((int) Math.rint(v * 255f), Images.toByte(x));
    }

    @Test
    void toRgb_nchwImage_interleavesChannelsRowMajor() {
        try (PointerScope scope = new PointerScope()) {
            // 1 image, 3 channels, 1x2 pixels: R = [-1, 1], G = [0, 0], B = [1, -1]
            Tensor t = Tensors.floats(new float[] {-1, 1, 0, 0, 1, -1}, Tensors.cpu(), 1, 3, 1, 2);
            scope.attach(t);
            t.close();
            assertArrayEquals(new int[] {0, 128, 255, 255, 128, 0}, Images.toRgb(t)[0]);
        }
    }

    @Test
    void writePng_roundTrip_samePixelsNoTempFileLeft(@TempDir Path dir) throws Exception {
        BufferedImage im = solid(5, 3, Color.ORANGE);
        Path f = dir.resolve("x.png");
        Images.writePng(im, f);
        BufferedImage back = ImageIO.read(f.toFile());
        assertEquals(Color.ORANGE.getRGB(), back.getRGB(4, 2));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void writePng_missingFolder_throwsNamingFile(@TempDir Path dir) {
        Path f = dir.resolve("no/such/x.png");
        Exception e = assertThrows(java.io.IOException.class, () -> Images.writePng(solid(2, 2, Color.RED), f));
        assertTrue(e.getMessage().contains("x.png"), e.getMessage());
    }

    @Test
    void compose_twoByTwoWithLabels_placesEveryImage() {
        BufferedImage red = solid(20, 10, Color.RED);
        BufferedImage blue = solid(20, 10, Color.BLUE);
        BufferedImage g = ImageGrid.compose(List.of(List.of(red, blue), List.of(blue, red)),
                List.of("before", "after"), List.of("seed 0", "seed 1"), "a title");
        assertTrue(g.getWidth() >= 40 && g.getHeight() >= 20);
        int reds = 0;
        int blues = 0;
        for (int y = 0; y < g.getHeight(); y++) {
            for (int x = 0; x < g.getWidth(); x++) {
                int c = g.getRGB(x, y);
                reds += c == Color.RED.getRGB() ? 1 : 0;
                blues += c == Color.BLUE.getRGB() ? 1 : 0;
            }
        }
        assertEquals(2 * 20 * 10, reds);
        assertEquals(2 * 20 * 10, blues);
    }

    @Test
    void compose_raggedRows_throws() {
        BufferedImage a = solid(2, 2, Color.RED);
        assertThrows(IllegalArgumentException.class,
                () -> ImageGrid.compose(List.of(List.of(a, a), List.of(a)), List.of(), List.of(), null));
    }

    private static BufferedImage solid(int w, int h, Color c) {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                im.setRGB(x, y, c.getRGB());
            }
        }
        return im;
    }
}
