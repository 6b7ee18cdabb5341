package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.vision.ClipImageProcessor;
import dev.refact.clip.vision.ImageProcessorConfig;
import dev.refact.clip.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PNG + text → probabilities through the whole stack (decoder, HF-exact preprocessing, tokenizer, both towers)
 * against {@code tiny-clip-full}'s ReFACT pair probabilities. Preprocessing is exact, so the tolerance is the
 * float32 one (1e-5 absolute on probabilities).
 */
final class ZeroShotClassifierTest {
    static final Path DIR = SharedData.resolve("models/tiny-clip-full");
    static ZeroShotClassifier classifier;
    static JsonObject golden;

    @BeforeAll
    static void load() throws IOException {
        classifier = ZeroShotClassifier.load(DIR, SharedData.resolve("clip-tokenizer"));
        golden = JsonParser.parseString(Files.readString(DIR.resolve("golden.json"))).getAsJsonObject();
    }

    @AfterAll
    static void close() {
        classifier.close();
    }

    private static List<String> prompts() {
        JsonArray a = golden.getAsJsonArray("prompts");
        return List.of(a.get(0).getAsString(), a.get(1).getAsString(), a.get(2).getAsString(), a.get(3).getAsString());
    }

    @Test
    void inputIds_goldenPrompts_equalFixtureIds() throws IOException {
        try (PointerScope scope = new PointerScope(); SafetensorsFile f = SafetensorsFile.open(DIR.resolve("golden.safetensors"))) {
            assertArrayEquals(f.readLongs("text.input_ids"), Tensors.toLongs(classifier.inputIds(prompts())));
        }
    }

    @Test
    void twoWay_fixturePngs_matchRefactPairProbabilities() throws IOException {
        List<String> p = prompts();
        JsonArray expected100 = golden.getAsJsonObject("results").getAsJsonArray("refact.pair_probs_100");
        JsonArray expectedModel = golden.getAsJsonObject("results").getAsJsonArray("refact.pair_probs_logit_scale");
        String[] files = {"img0_57x40.png", "img1_40x57.png", "img2_64x64.png"};
        for (int img = 0; img < 3; img++) {
            RgbImage image = RgbImage.read(DIR.resolve("images").resolve(files[img]));
            for (int pair = 0; pair < 2; pair++) {
                double[] got = classifier.twoWay(image, p.get(2 * pair), p.get(2 * pair + 1), LogitScale.FIXED_100);
                double[] gotModel = classifier.twoWay(image, p.get(2 * pair), p.get(2 * pair + 1), LogitScale.MODEL);
                JsonArray e = expected100.get(img).getAsJsonArray().get(pair).getAsJsonArray();
                JsonArray em = expectedModel.get(img).getAsJsonArray().get(pair).getAsJsonArray();
                for (int k = 0; k < 2; k++) {
                    assertEquals(e.get(k).getAsDouble(), got[k], 1e-5, "fixed100 image " + img + " pair " + pair);
                    assertEquals(em.get(k).getAsDouble(), gotModel[k], 1e-5, "model image " + img + " pair " + pair);
                }
            }
        }
    }

    @Test
    void load_clipFolderWithoutTokenizer_asksForIt() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> ZeroShotClassifier.load(DIR, null));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
    }

    @Test
    void scores_noTexts_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> classifier.inputIds(List.of()));
        assertTrue(e.getMessage().contains("no texts"), e.getMessage());
    }

    @Test
    void of_processorSizeMismatch_closesTheModelItWasGiven() throws IOException {
        ClipModel m = ClipModel.load(DIR);
        ClipImageProcessor wrong = ClipImageProcessor.of(ImageProcessorConfig.clipDefaults()); // 224, model: 32
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ZeroShotClassifier.of(m, wrong, classifier.tokenizer()));
        assertTrue(e.getMessage().contains("image_size is 32"), e.getMessage());
        assertTrue(m.text().isClosed(), "of() took ownership of the model, so a failure closes it");
    }
}
