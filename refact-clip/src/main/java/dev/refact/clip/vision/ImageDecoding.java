package dev.refact.clip.vision;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;

/**
 * Decodes image files to {@link RgbImage} with Pillow 9.4's {@code Image.open(p).convert("RGB")}
 * semantics.
 *
 * <p>javax.imageio does the PNG decoding (inflate, filters, interlacing); this class reads the raw
 * raster samples (never {@code BufferedImage.getRGB}, which runs gray images through a linear-gray
 * colour space and changes their values) and applies Pillow's mode rules, taken from Pillow 9.4
 * {@code PngImagePlugin._MODES} and {@code Convert.c}:
 * <pre>
 *   PNG (bit depth, colour type) → Pillow mode (rawmode) → RGB
 *   (1,0) "1"              → 0 / 255            (2,0),(4,0) "L" (L;2, L;4) → v·85, v·17
 *   (8,0) "L"              → (v,v,v)            (16,0) "I" (I;16B)         → clip(v, 0, 255) (i2rgb)
 *   (8,2) "RGB"            → as is              (16,2) "RGB" (RGB;16B)     → high bytes
 *   (1..8,3) "P"           → PLTE[i], or (i,i,i) past the palette (Pillow's initial gray ramp)
 *   (8,4) "LA"             → (l,l,l)            (16,4) "RGBA" (LA;16B)     → high byte of l
 *   (8,6) "RGBA"           → drop alpha         (16,6) "RGBA" (RGBA;16B)   → high bytes, drop alpha
 * </pre>
 * {@code convert("RGB")} never composites alpha onto a background, and tRNS is ignored.
 */
final class ImageDecoding {
    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    /** Largest image file read: 256 MiB. */
    static final int MAX_IMAGE_BYTES = 256 << 20;
    /**
     * Largest image decoded: 50 megapixels (e.g. 8,192 × 6,103). A compressed file far under 256 MiB can declare
     * 30,000 × 30,000 pixels, whose raster alone (3.6 GB) would exhaust the heap; the header is checked first.
     */
    static final long MAX_PIXELS = 50_000_000L;

    private ImageDecoding() {
    }

    static RgbImage decode(Path path) throws IOException {
        dev.refact.clip.io.FileErrors.requireReadableFile(path, "image");
        byte[] file;
        try (java.io.InputStream s = Files.newInputStream(path)) {
            file = s.readNBytes(MAX_IMAGE_BYTES + 1); // bounded: /dev/zero or a huge file is refused, not read whole
        }
        if (file.length > MAX_IMAGE_BYTES) {
            throw new IOException(path + ": larger than 256 MiB, the limit for an image file");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(file))) {
            if (in == null) {
                throw new IOException("cannot open image " + path);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException(path + ": not an image format javax.imageio can read (PNG expected)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_PIXELS) {
                    throw new IOException(path + ": " + reader.getWidth(0) + " × " + reader.getHeight(0)
                            + " pixels, more than the 50-megapixel limit for an image");
                }
                BufferedImage img = reader.read(0);
                IIOMetadata md = reader.getImageMetadata(0);
                if (md != null && PNG_FORMAT.equals(md.getNativeMetadataFormatName())) {
                    return fromPng(img, (IIOMetadataNode) md.getAsTree(PNG_FORMAT), file, path);
                }
                return fromGeneric(img, path);
            } catch (IOException | RuntimeException e) {
                if (e instanceof IOException && e.getMessage() != null && e.getMessage().contains(path.toString())) {
                    throw e;
                }
                throw new IOException("cannot decode image " + path + ": " + e.getMessage(), e);
            } finally {
                reader.dispose();
            }
        }
    }

    /** PNG: colour type and bit depth from IHDR, palette from PLTE, samples from the raster. */
    static RgbImage fromPng(BufferedImage img, IIOMetadataNode root, byte[] file, Path path) throws IOException {
        IIOMetadataNode ihdr = child(root, "IHDR");
        if (ihdr == null) {
            throw new IOException(path + ": PNG without IHDR metadata");
        }
        String colorType = ihdr.getAttribute("colorType");
        int bitDepth = Integer.parseInt(ihdr.getAttribute("bitDepth"));
        Raster raster = img.getRaster();
        int w = img.getWidth();
        int h = img.getHeight();
        int rasterBits = raster.getSampleModel().getSampleSize(0);
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        switch (colorType) {
            case "Palette" -> {
                int[] palette = palette(file); // packed 0xRRGGBB
                int[] idx = raster.getSamples(0, 0, w, h, 0, (int[]) null);
                for (int i = 0; i < idx.length; i++) {
                    int v = idx[i];
                    int rgb = v < palette.length ? palette[v] : (v << 16) | (v << 8) | v;
                    out[3 * i] = (byte) (rgb >>> 16);
                    out[3 * i + 1] = (byte) (rgb >>> 8);
                    out[3 * i + 2] = (byte) rgb;
                }
            }
            case "Grayscale", "GrayAlpha" -> {
                int[] g = raster.getSamples(0, 0, w, h, 0, (int[]) null);
                for (int i = 0; i < g.length; i++) {
                    int v = grayToU8(g[i], bitDepth, rasterBits, colorType.equals("GrayAlpha"), path);
                    out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (byte) v;
                }
            }
            case "RGB", "RGBAlpha" -> {
                for (int c = 0; c < 3; c++) {
                    int[] s = raster.getSamples(0, 0, w, h, c, (int[]) null);
                    for (int i = 0; i < s.length; i++) {
                        out[3 * i + c] = (byte) (rasterBits == 16 ? s[i] >>> 8 : s[i]);
                    }
                }
            }
            default -> throw new IOException(path + ": unsupported PNG colour type " + colorType);
        }
        return RgbImage.wrap(w, h, out);
    }

    private static int grayToU8(int v, int bitDepth, int rasterBits, boolean withAlpha, Path path)
            throws IOException {
        if (rasterBits != bitDepth) {
            throw new IOException(path + ": unexpected raster of " + rasterBits + "-bit samples for a "
                    + bitDepth + "-bit gray PNG");
        }
        return switch (bitDepth) {
            case 1 -> v == 0 ? 0 : 255;
            case 2 -> v * 85;
            case 4 -> v * 17;
            case 8 -> v;
            // "LA;16B" keeps the high byte; mode "I" (16-bit gray without alpha) is clipped.
            case 16 -> withAlpha ? v >>> 8 : Math.min(v, 255);
            default -> throw new IOException(path + ": unsupported gray bit depth " + bitDepth);
        };
    }

    /**
     * The PLTE chunk as packed {@code 0xRRGGBB}, at its stored length. (javax.imageio's metadata pads
     * the palette with black to 2, 4, 16 or 256 entries, which would hide an index past the palette.)
     */
    static int[] palette(byte[] png) {
        int pos = 8; // signature
        while (pos + 8 <= png.length) {
            int len = ((png[pos] & 0xFF) << 24) | ((png[pos + 1] & 0xFF) << 16) | ((png[pos + 2] & 0xFF) << 8)
                    | (png[pos + 3] & 0xFF);
            String type = new String(png, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            int data = pos + 8;
            if (len < 0 || data + (long) len > png.length) {
                break;
            }
            if (type.equals("PLTE")) {
                int[] pal = new int[len / 3];
                for (int i = 0; i < pal.length; i++) {
                    int o = data + 3 * i;
                    pal[i] = ((png[o] & 0xFF) << 16) | ((png[o + 1] & 0xFF) << 8) | (png[o + 2] & 0xFF);
                }
                return pal;
            }
            if (type.equals("IDAT") || type.equals("IEND")) {
                break;
            }
            pos = data + len + 4; // data + CRC
        }
        return new int[0];
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (name.equals(n.getNodeName())) {
                return (IIOMetadataNode) n;
            }
        }
        return null;
    }

    /** Non-PNG formats: raw samples for 8-bit gray/sRGB rasters and palettes, getRGB otherwise. */
    static RgbImage fromGeneric(BufferedImage img, Path path) {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster raster = img.getRaster();
        ColorModel cm = img.getColorModel();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        int bits = raster.getSampleModel().getSampleSize(0);
        if (cm instanceof IndexColorModel icm) {
            int[] idx = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < idx.length; i++) {
                out[3 * i] = (byte) icm.getRed(idx[i]);
                out[3 * i + 1] = (byte) icm.getGreen(idx[i]);
                out[3 * i + 2] = (byte) icm.getBlue(idx[i]);
            }
        } else if (cm instanceof ComponentColorModel && bits == 8
                && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            int[] g = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < g.length; i++) {
                out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (byte) g[i];
            }
        } else if (cm instanceof ComponentColorModel && bits == 8 && cm.getColorSpace().isCS_sRGB()) {
            for (int c = 0; c < 3; c++) {
                int[] s = raster.getSamples(0, 0, w, h, c, (int[]) null);
                for (int i = 0; i < s.length; i++) {
                    out[3 * i + c] = (byte) s[i];
                }
            }
        } else {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < argb.length; i++) {
                out[3 * i] = (byte) (argb[i] >>> 16);
                out[3 * i + 1] = (byte) (argb[i] >>> 8);
                out[3 * i + 2] = (byte) argb[i];
            }
        }
        return RgbImage.wrap(w, h, out);
    }
}
