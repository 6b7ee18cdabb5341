package dev.refact.diffusion;

import dev.refact.clip.torch.Tensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.bytedeco.pytorch.Tensor;

/**
 * Image conversions and PNG files.
 *
 * <p>Pixel values follow diffusers exactly: {@code v = clamp(x/2 + 0.5, 0, 1)} in float32, then
 * {@code rint(v · 255)} (NumPy's round-half-to-even on the float32 product).
 */
public final class Images {
    private Images() {
    }

    /**
     * 8-bit RGB values of decoded images.
     *
     * @param image [b, 3, H, W] in [-1, 1] (values outside are clamped)
     * @return per image, H·W·3 values in 0..255, row-major, RGB interleaved (NHWC)
     */
    public static int[][] toRgb(Tensor image) {
        long[] s = Tensors.shape(image);
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("image must be [b, 3, H, W], got " + Arrays.toString(s));
        }
        float[] x = Tensors.toFloats(image);
        int b = (int) s[0];
        int h = (int) s[2];
        int w = (int) s[3];
        int plane = h * w;
        int[][] out = new int[b][3 * plane];
        for (int n = 0; n < b; n++) {
            for (int c = 0; c < 3; c++) {
                int base = (n * 3 + c) * plane;
                for (int p = 0; p < plane; p++) {
                    out[n][3 * p + c] = toByte(x[base + p]);
                }
            }
        }
        return out;
    }

    /** One pixel channel: {@code rint(clamp(x/2 + 0.5, 0, 1) · 255)} in float32. */
    static int toByte(float x) {
        float v = x / 2f + 0.5f;
        v = Math.min(Math.max(v, 0f), 1f);
        return (int) Math.rint(v * 255f);
    }

    /**
     * Decoded images [b, 3, H, W] in [-1, 1] as RGB {@link BufferedImage}s.
     *
     * @param image [b, 3, H, W] in [-1, 1] (values outside are clamped); any float dtype or device, read, not closed
     * @return one new {@code TYPE_INT_RGB} image of W×H pixels per batch row, in batch order
     * @throws IllegalArgumentException if {@code image} is not [b, 3, H, W]
     */
    public static List<BufferedImage> toBufferedImages(Tensor image) {
        long[] s = Tensors.shape(image);
        int[][] rgb = toRgb(image);
        int h = (int) s[2];
        int w = (int) s[3];
        List<BufferedImage> out = new ArrayList<>();
        for (int[] px : rgb) {
            BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    int i = 3 * (y * w + xx);
                    im.setRGB(xx, y, (px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
                }
            }
            out.add(im);
        }
        return out;
    }

    /**
     * Writes a PNG atomically (temporary file in the same folder, then rename), so a failed write
     * leaves no partial file.
     *
     * @param image the image to encode
     * @param file  the PNG file to create or replace; its folder must exist
     * @throws IOException if the folder does not exist or cannot be written
     */
    public static void writePng(BufferedImage image, Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException(file + ": folder " + dir + " does not exist");
        }
        dev.refact.clip.io.AtomicFiles.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException(file + ": no PNG writer available");
            }
        });
    }
}
