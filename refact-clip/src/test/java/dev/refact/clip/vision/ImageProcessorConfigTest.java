package dev.refact.clip.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both {@code preprocessor_config.json} forms, HF's size arithmetic, crop padding and bad configs. */
final class ImageProcessorConfigTest {
    private static final Path DIR = SharedData.resolve("models/tiny-clip-full");

    @TempDir
    Path tmp;

    @Test
    void read_newStyleFixture_hasClipSettings() throws IOException {
        ImageProcessorConfig c = ImageProcessorConfig.read(DIR);
        assertEquals(32, c.shortestEdge());
        assertEquals(32, c.cropHeight());
        assertEquals(32, c.cropWidth());
        assertEquals(Resample.BICUBIC, c.resample());
        assertEquals(1 / 255.0, c.rescaleFactor());
        assertArrayEquals(new double[] {0.48145466, 0.4578275, 0.40821073}, c.imageMean());
    }

    @Test
    void read_oldStyleIntSizes_givesSamePixelValuesAsNewStyle() throws IOException {
        Path old = tmp.resolve("preprocessor_config.json");
        Files.writeString(old, """
                {
                  "crop_size": 32,
                  "do_center_crop": true,
                  "do_normalize": true,
                  "do_resize": true,
                  "feature_extractor_type": "CLIPFeatureExtractor",
                  "image_mean": [0.48145466, 0.4578275, 0.40821073],
                  "image_std": [0.26862954, 0.26130258, 0.27577711],
                  "resample": 3,
                  "size": 32
                }
                """);
        ImageProcessorConfig oldStyle = ImageProcessorConfig.read(tmp);
        assertEquals(ImageProcessorConfig.read(DIR), oldStyle);
        List<RgbImage> imgs = new ArrayList<>();
        for (String f : new String[] {"img0_57x40.png", "img1_40x57.png", "img2_64x64.png"}) {
            imgs.add(RgbImage.read(DIR.resolve("images").resolve(f)));
        }
        assertArrayEquals(ClipImageProcessor.load(DIR).preprocess(imgs), ClipImageProcessor.load(old).preprocess(imgs));
    }

    @Test
    void read_emptyObject_usesHfDefaults() throws IOException {
        Path p = tmp.resolve("c.json");
        Files.writeString(p, "{}");
        assertEquals(ImageProcessorConfig.clipDefaults(), ImageProcessorConfig.read(p));
    }

    @Test
    void resizedSize_shortestEdge_truncatesLongEdgeAsPython() throws IOException {
        ClipImageProcessor p = ClipImageProcessor.of(ImageProcessorConfig.clipDefaults());
        assertArrayEquals(new int[] {224, 74666}, p.resizedSize(1000, 3));   // int(224*1000/3)
        assertArrayEquals(new int[] {298, 224}, p.resizedSize(480, 640));    // int(224*640/480) = 298
        assertArrayEquals(new int[] {224, 224}, p.resizedSize(7, 7));
        assertArrayEquals(new int[] {224, 224}, p.outputSize(480, 640));
    }

    @Test
    void read_useSquareSize_resizesToSquare() throws IOException {
        Path p = tmp.resolve("c.json");
        Files.writeString(p, "{\"size\": {\"shortest_edge\": 20}, \"use_square_size\": true, \"do_center_crop\": false}");
        ClipImageProcessor proc = ClipImageProcessor.load(p);
        assertArrayEquals(new int[] {20, 20}, proc.outputSize(57, 40));
        assertEquals(3 * 20 * 20, proc.preprocess(PillowResizeTest.random(new java.util.SplittableRandom(4), 57, 40)).length);
    }

    @Test
    void centerCrop_imageSmallerThanCrop_padsWithZerosAsHf() throws IOException {
        Path p = tmp.resolve("c.json");
        Files.writeString(p, "{\"do_resize\": false, \"crop_size\": {\"height\": 5, \"width\": 6}, "
                + "\"do_rescale\": false, \"do_normalize\": false}");
        ClipImageProcessor proc = ClipImageProcessor.load(p);
        byte[] px = new byte[3 * 4 * 3];
        java.util.Arrays.fill(px, (byte) 200);
        float[] out = proc.preprocess(RgbImage.of(4, 3, px)); // 4 wide, 3 high -> 6 wide, 5 high
        assertEquals(3 * 5 * 6, out.length);
        // HF: top_pad = ceil((5-3)/2) = 1, left_pad = ceil((6-4)/2) = 1; window = whole padded image.
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 6; x++) {
                    boolean inside = y >= 1 && y <= 3 && x >= 1 && x <= 4;
                    assertEquals(inside ? 200f : 0f, out[c * 30 + y * 6 + x], "(" + c + "," + y + "," + x + ")");
                }
            }
        }
    }

    @Test
    void read_otherProcessorType_isRefusedNamingFile() throws IOException {
        Path p = tmp.resolve("preprocessor_config.json");
        Files.writeString(p, "{\"image_processor_type\": \"ViTImageProcessor\"}");
        IOException e = assertThrows(IOException.class, () -> ImageProcessorConfig.read(p));
        assertTrue(e.getMessage().contains("preprocessor_config.json") && e.getMessage().contains("ViTImageProcessor"),
                e.getMessage());
    }

    @Test
    void read_badValues_areRefusedNamingField() throws IOException {
        String[][] cases = {
            {"{\"size\": \"big\"}", "size"},
            {"{\"size\": {\"longest\": 3}}", "shortest_edge"},
            {"{\"crop_size\": -1}", "crop_size"},
            {"{\"resample\": 0}", "NEAREST"},
            {"{\"resample\": 9}", "resampling filter 9"},
            {"{\"image_mean\": [0.5, 0.5]}", "image_mean"},
            {"{\"image_std\": [0.5, 0, 0.5]}", "image_std"},
            {"{\"do_resize\": \"yes\"}", "do_resize"},
            {"[1, 2]", "JSON object"},
            {"{", "JSON"},
        };
        for (String[] c : cases) {
            Path p = tmp.resolve("bad.json");
            Files.writeString(p, c[0]);
            IOException e = assertThrows(IOException.class, () -> ImageProcessorConfig.read(p), c[0]);
            assertTrue(e.getMessage().contains("bad.json") && e.getMessage().contains(c[1]),
                    c[0] + " -> " + e.getMessage());
        }
        IOException missing = assertThrows(IOException.class, () -> ImageProcessorConfig.read(tmp.resolve("nodir")));
        assertTrue(missing.getMessage().contains("nodir"), missing.getMessage());
    }

    @Test
    void preprocess_batchOfDifferentSizesWithoutCrop_throwsNamingImage() throws IOException {
        Path p = tmp.resolve("c.json");
        Files.writeString(p, "{\"size\": 8, \"do_center_crop\": false}");
        ClipImageProcessor proc = ClipImageProcessor.load(p);
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> proc.preprocess(List.of(PillowResizeTest.random(r, 8, 8), PillowResizeTest.random(r, 16, 8))));
        assertTrue(e.getMessage().contains("image 1"), e.getMessage());
    }
}
