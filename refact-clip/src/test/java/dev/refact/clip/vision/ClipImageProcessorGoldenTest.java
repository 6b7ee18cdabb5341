package dev.refact.clip.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks every preprocessing stage against {@code tiny-clip-full} (HF transformers 4.26, Pillow 9.4):
 * the decoded PNGs, Pillow's bicubic resize (uint8, exact), the crop offsets and the float32
 * {@code pixel_values} (exact).
 */
final class ClipImageProcessorGoldenTest {
    private static final Path DIR = SharedData.resolve("models/tiny-clip-full");

    private static JsonObject golden() throws IOException {
        return JsonParser.parseString(Files.readString(DIR.resolve("golden.json"))).getAsJsonObject();
    }

    private static byte[] u8(SafetensorsFile f, String name) throws IOException {
        long[] v = f.readLongs(name);
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private static List<RgbImage> images(JsonObject g) throws IOException {
        List<RgbImage> out = new ArrayList<>();
        for (var e : g.getAsJsonArray("images")) {
            out.add(RgbImage.read(DIR.resolve(e.getAsJsonObject().get("file").getAsString())));
        }
        return out;
    }

    private static int differing(byte[] a, byte[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    @Test
    void read_fixturePngs_matchDecodedGoldenBytes() throws IOException {
        JsonObject g = golden();
        List<RgbImage> imgs = images(g);
        try (SafetensorsFile f = SafetensorsFile.open(DIR.resolve("golden.safetensors"))) {
            for (int i = 0; i < imgs.size(); i++) {
                JsonObject meta = g.getAsJsonArray("images").get(i).getAsJsonObject();
                RgbImage img = imgs.get(i);
                assertEquals(meta.get("width").getAsInt(), img.width(), "width of image " + i);
                assertEquals(meta.get("height").getAsInt(), img.height(), "height of image " + i);
                byte[] expected = u8(f, "images." + i + ".rgb_u8");
                assertEquals(0, differing(expected, img.toByteArray()), "differing bytes in decoded image " + i);
            }
        }
    }

    @Test
    void resize_fixtureImages_matchPillowBicubicExactly() throws IOException {
        JsonObject g = golden();
        List<RgbImage> imgs = images(g);
        ClipImageProcessor p = ClipImageProcessor.load(DIR);
        try (SafetensorsFile f = SafetensorsFile.open(DIR.resolve("golden.safetensors"))) {
            for (int i = 0; i < imgs.size(); i++) {
                JsonArray wh = g.getAsJsonArray("images").get(i).getAsJsonObject().getAsJsonArray("resized_wh");
                RgbImage resized = p.resize(imgs.get(i));
                assertEquals(wh.get(0).getAsInt(), resized.width(), "resized width of image " + i);
                assertEquals(wh.get(1).getAsInt(), resized.height(), "resized height of image " + i);
                byte[] expected = u8(f, "preprocess." + i + ".resized_u8");
                assertEquals(0, differing(expected, resized.toByteArray()), "differing bytes after resize, image " + i);
            }
        }
    }

    @Test
    void centerCrop_fixtureImages_usesHfOffsets() throws IOException {
        JsonObject g = golden();
        List<RgbImage> imgs = images(g);
        ClipImageProcessor p = ClipImageProcessor.load(DIR);
        for (int i = 0; i < imgs.size(); i++) {
            JsonArray tl = g.getAsJsonArray("images").get(i).getAsJsonObject().getAsJsonArray("crop_top_left_hf");
            RgbImage resized = p.resize(imgs.get(i));
            RgbImage cropped = p.centerCrop(resized);
            assertEquals(32, cropped.width());
            assertEquals(32, cropped.height());
            int top = tl.get(0).getAsInt();
            int left = tl.get(1).getAsInt();
            for (int y = 0; y < 32; y += 7) {
                for (int x = 0; x < 32; x += 5) {
                    for (int c = 0; c < 3; c++) {
                        assertEquals(resized.sample(y + top, x + left, c), cropped.sample(y, x, c),
                                "image " + i + " crop pixel (" + y + "," + x + "," + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void preprocess_fixtureImages_matchHfPixelValuesExactly() throws IOException {
        JsonObject g = golden();
        List<RgbImage> imgs = images(g);
        ClipImageProcessor p = ClipImageProcessor.load(DIR.resolve("preprocessor_config.json"));
        float[] actual = p.preprocess(imgs);
        try (SafetensorsFile f = SafetensorsFile.open(DIR.resolve("golden.safetensors"))) {
            assertArrayEquals(new long[] {3, 3, 32, 32}, f.info("pixel_values").shape());
            float[] expected = f.readFloats("pixel_values");
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                    TensorAssertions.assertAllClose(expected, actual, 0, 1e-6, "pixel_values");
                }
            }
            assertEquals(0.0, TensorAssertions.maxAbsDiff(expected, actual), "max |pixel_values diff|");
        }
    }
}
