package dev.refact.clip.vision;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * An immutable 8-bit RGB image, stored row-major as {@code [height, width, 3]} bytes (R, G, B).
 *
 * <p>This is what {@code PIL.Image.open(path).convert("RGB")} holds and what
 * {@link ClipImageProcessor} consumes: {@link #read(Path)} decodes a file with exactly Pillow's
 * conversion rules (see {@link #read(Path)}), and {@link #of(int, int, byte[])} wraps pixels that
 * came from elsewhere (e.g. a diffusion pipeline).
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final byte[] rgb; // [height, width, 3], never exposed

    private RgbImage(int width, int height, byte[] rgb) {
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /**
     * An image holding a copy of {@code rgb}.
     *
     * @param width  width in pixels, at least 1
     * @param height height in pixels, at least 1
     * @param rgb    {@code height * width * 3} bytes, row-major, channels R, G, B (unsigned)
     * @return a new image; later changes to {@code rgb} do not affect it
     * @throws IllegalArgumentException if a size is not positive or the array length is wrong
     */
    public static RgbImage of(int width, int height, byte[] rgb) {
        Objects.requireNonNull(rgb, "rgb");
        checkSize(width, height);
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException("RGB image " + width + "x" + height + " needs "
                    + ((long) width * height * 3) + " bytes, got " + rgb.length);
        }
        return new RgbImage(width, height, rgb.clone());
    }

    /** Wraps without copying; the caller gives up {@code rgb}. */
    static RgbImage wrap(int width, int height, byte[] rgb) {
        checkSize(width, height);
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalStateException("internal: " + width + "x" + height + " image with " + rgb.length
                    + " bytes");
        }
        return new RgbImage(width, height, rgb);
    }

    private static void checkSize(int width, int height) {
        if (width < 1 || height < 1) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if ((long) width * height * 3 > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("image " + width + "x" + height + " is too large");
        }
    }

    /**
     * Decodes an image file to RGB exactly as {@code PIL.Image.open(path).convert("RGB")} does
     * (Pillow 9.4), which is what HF {@code CLIPImageProcessor} with {@code do_convert_rgb} sees.
     *
     * <p>PNG, all colour types and bit depths: gray is replicated to R=G=B (1-bit as 0/255, 2- and
     * 4-bit scaled by 85 and 17); palette indices are looked up in PLTE (an index past the palette
     * gives Pillow's gray ramp value {@code (i, i, i)}); alpha and tRNS are dropped, never composited;
     * 16-bit RGB, RGBA and gray+alpha keep the high byte; 16-bit gray becomes Pillow mode {@code I} and
     * is clipped to 0..255 (Pillow's {@code I → RGB}), so a typical 16-bit gray photo turns mostly
     * white, as it does in Python. No gamma, ICC or EXIF-orientation handling (Pillow does none).
     * Other formats javax.imageio reads (JPEG, BMP, GIF) are converted from their raw samples the same
     * way; their decoders are not byte-identical to Pillow's (JPEG IDCTs differ).
     *
     * @param path the image file
     * @return the decoded image
     * @throws IOException if the file cannot be read or is not an image javax.imageio understands;
     *                     the message names the file
     */
    public static RgbImage read(Path path) throws IOException {
        return ImageDecoding.decode(path);
    }

    /**
     * Writes this image as an 8-bit RGB PNG (to a temporary file beside {@code path}, then renamed).
     *
     * @param path the PNG file to write
     * @throws IOException if writing fails; an existing file is then left unchanged
     */
    public void writePng(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        java.awt.image.BufferedImage image = toBufferedImage();
        dev.refact.clip.io.AtomicFiles.write(path, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG writer available for " + path);
            }
        });
    }

    /**
     * A {@code TYPE_INT_RGB} copy, for drawing grids and reports.
     *
     * @return a new {@code width × height} image, independent of this one
     */
    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            int o = y * width * 3;
            for (int x = 0; x < width; x++, o += 3) {
                row[x] = ((rgb[o] & 0xFF) << 16) | ((rgb[o + 1] & 0xFF) << 8) | (rgb[o + 2] & 0xFF);
            }
            img.setRGB(0, y, width, 1, row, 0, width);
        }
        return img;
    }

    /**
     * Width in pixels.
     *
     * @return the width, at least 1
     */
    public int width() {
        return width;
    }

    /**
     * Height in pixels.
     *
     * @return the height, at least 1
     */
    public int height() {
        return height;
    }

    /**
     * One sample, 0..255.
     *
     * @param y       row, 0 at the top
     * @param x       column, 0 at the left
     * @param channel 0 = R, 1 = G, 2 = B
     * @return the unsigned sample value, 0..255
     * @throws IndexOutOfBoundsException outside the image
     */
    public int sample(int y, int x, int channel) {
        Objects.checkIndex(y, height);
        Objects.checkIndex(x, width);
        Objects.checkIndex(channel, 3);
        return rgb[(y * width + x) * 3 + channel] & 0xFF;
    }

    /**
     * A copy of the pixels, {@code [height, width, 3]} row-major.
     *
     * @return a new array of {@code height * width * 3} bytes (unsigned R, G, B)
     */
    public byte[] toByteArray() {
        return rgb.clone();
    }

    /** The pixel array itself, for package code that only reads it. */
    byte[] pixels() {
        return rgb;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage other && other.width == width && other.height == height
                && Arrays.equals(other.rgb, rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
