package dev.refact.clip.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PNG decoding against Pillow 9.4's {@code Image.open(png).convert("RGB")} for every colour type and bit depth. */
final class ImageDecodingTest {
    @TempDir
    Path tmp;

    @Test
    void read_everyPngColourTypeAndDepth_matchesPillowConvertRgb() throws IOException {
        JsonObject g = PillowResizeTest.goldens();
        int cases = 0;
        for (JsonElement e : g.getAsJsonArray("decode")) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("name").getAsString();
            Path png = tmp.resolve(name + ".png");
            Files.write(png, Base64.getDecoder().decode(c.get("png").getAsString()));
            RgbImage img = RgbImage.read(png);
            assertEquals(c.get("width").getAsInt(), img.width(), name);
            assertEquals(c.get("height").getAsInt(), img.height(), name);
            assertArrayEquals(Base64.getDecoder().decode(c.get("rgb").getAsString()), img.toByteArray(),
                    name + " (Pillow mode " + c.get("pillow_mode").getAsString() + ")");
            cases++;
        }
        assertTrue(cases >= 19, "decode goldens read: " + cases);
    }

    @Test
    void writePng_thenRead_roundTripsExactly() throws IOException {
        RgbImage img = PillowResizeTest.random(new SplittableRandom(7), 13, 6);
        Path p = tmp.resolve("sub/dir/x.png");
        img.writePng(p);
        assertEquals(img, RgbImage.read(p));
    }

    @Test
    void read_missingFile_namesIt() {
        Path p = tmp.resolve("nope.png");
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(p));
        assertTrue(e.getMessage().contains("nope.png"), e.getMessage());
    }

    @Test
    void read_notAnImage_namesFile() throws IOException {
        Path p = tmp.resolve("text.png");
        Files.writeString(p, "this is not a PNG");
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(p));
        assertTrue(e.getMessage().contains("text.png"), e.getMessage());
    }

    @Test
    void read_pngDeclaringHugeDimensions_refusedFromItsHeader_namesFileAndSize() throws IOException {
        // a 57-byte PNG whose IHDR declares 30,000 × 30,000 RGB pixels: decoding it would need a 2.7 GB raster
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(30_000).putInt(30_000)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(png, "IEND", new byte[0]);
        Path p = tmp.resolve("huge.png");
        Files.write(p, png.toByteArray());
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(p));
        assertTrue(e.getMessage().contains("huge.png") && e.getMessage().contains("30000 × 30000"), e.getMessage());
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + data.length).putInt(data.length);
        byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        b.put(typeBytes).put(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(typeBytes);
        crc.update(data);
        b.putInt((int) crc.getValue());
        out.writeBytes(b.array());
    }

    @Test
    void read_truncatedPng_namesFile() throws IOException {
        JsonObject c = PillowResizeTest.goldens().getAsJsonArray("decode").get(7).getAsJsonObject();
        byte[] png = Base64.getDecoder().decode(c.get("png").getAsString());
        Path p = tmp.resolve("cut.png");
        Files.write(p, java.util.Arrays.copyOf(png, png.length / 2));
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(p));
        assertTrue(e.getMessage().contains("cut.png"), e.getMessage());
    }

    @Test
    void of_wrongLength_throwsWithSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RgbImage.of(2, 2, new byte[11]));
        assertTrue(e.getMessage().contains("2x2"), e.getMessage());
    }
}
