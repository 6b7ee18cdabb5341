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
