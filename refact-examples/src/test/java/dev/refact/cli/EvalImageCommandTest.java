package dev.refact.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.LogitScale;
import dev.refact.clip.ZeroShotClassifier;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.vision.RgbImage;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import dev.refact.diffusion.ClipPromptEncoder;
import dev.refact.diffusion.Generation;
import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.Images;
import dev.refact.diffusion.ProgressListener;
import dev.refact.diffusion.SchedulerKind;
import dev.refact.diffusion.StableDiffusionPipeline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refact eval} (images) on the tiny fixtures: the tiny SD UNet/VAE with the tiny CLIP text encoder, the
 * tiny full CLIP as classifier; 16×16 images, 2 denoising steps. Mechanics only.
 */
final class EvalImageCommandTest {
    static final String CLASSIFIER = SharedData.resolve("models/tiny-clip-full").toString();
    static final String TOKENIZER = SharedData.resolve("clip-tokenizer").toString();
    static final String ROAD = SharedData.resolve("refact/road/RoAD_validation.csv").toString();

    @TempDir
    static Path fixture;

    @TempDir
    Path tmp;

    static Path sd;
    static Path stats;

    /** A diffusers-layout folder of links to the fixtures (nothing is copied), and layer-1 statistics. */
    @BeforeAll
    static void setUp() throws IOException {
        sd = Files.createDirectories(fixture.resolve("sd"));
        for (String c : List.of("unet", "vae", "scheduler")) {
            Files.createSymbolicLink(sd.resolve(c), SharedData.resolve("models/tiny-sd-pipe/" + c));
        }
        Files.createSymbolicLink(sd.resolve("text_encoder"), SharedData.resolve("models/tiny-random-clip-text"));
        Files.createSymbolicLink(sd.resolve("tokenizer"), SharedData.resolve("clip-tokenizer"));
        stats = fixture.resolve("L1.safetensors");
        List<String> texts = Files.readAllLines(SharedData.resolve("refact/time/TIMED_test_set.csv")).stream()
                .flatMap(l -> java.util.Arrays.stream(l.split(","))).toList();
        try (ClipTextModel m = ClipTextModel.load(sd.resolve("text_encoder"));
             CovarianceStats s = CovarianceStats.compute(m, ClipTokenizer.load(Path.of(TOKENIZER)), 1, texts,
                     StatsOptions.builder().sampleLimit(600).corpusName("time-test-fields").build(), null)) {
            s.save(stats);
        }
    }

    private String[] eval(Path out, String mode, String seeds) {
        return EvalCommandsTest.run("eval", "--model", sd.toString(), "--classifier", CLASSIFIER,
                "--classifier-tokenizer", TOKENIZER, "--dataset", ROAD, "--rows", "0", "--seeds", seeds, "--mode", mode,
                "--diffusion-steps", "1", "--guidance", "1", "--height", "16", "--width", "16", "--layer", "1", "--stats",
                stats.toString(), "--steps", "2", "--num-contrastive", "2", "--save-images", "--out", out.toString());
    }

    @Test
    void eval_refactTwoSeeds_writesResultsImagesGridAndResumes() throws IOException {
        Path out = tmp.resolve("refact");
        String[] r = eval(out, "refact", "0..1");
        assertEquals("0", r[0], r[2]);
        JsonObject o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals("image", o.get("space").getAsString());
        assertEquals(2, o.get("computed").getAsInt());
        List<String> lines = Files.readAllLines(out.resolve("results.jsonl"));
        assertEquals(3, lines.size());
        JsonObject scorer = JsonParser.parseString(lines.get(0)).getAsJsonObject().getAsJsonObject("config")
                .getAsJsonObject("scorer");
        assertEquals("1", scorer.get("steps").getAsString());
        assertEquals(64, scorer.get("classifier").getAsString().length());
        assertNotEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                scorer.get("classifier").getAsString(), "the fingerprint covers the files (links followed)");
        JsonObject cell = JsonParser.parseString(lines.get(1)).getAsJsonObject();
        assertEquals(11, cell.getAsJsonArray("p_new").size());
        assertTrue(cell.has("edit"));
        assertTrue(Files.isRegularFile(out.resolve("images/row0/seed1/10-specificity4.png")));
        assertTrue(Files.isRegularFile(out.resolve("images/row0.png")));
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("mode refact, images"), md);
        assertTrue(md.contains("![row 0](images/row0.png)"), md);
        assertTrue(md.contains("mean ± std over seeds"), md);

        r = eval(out, "refact", "0..1");
        assertEquals("0", r[0], r[2]);
        o = JsonParser.parseString(r[1].strip()).getAsJsonObject();
        assertEquals(0, o.get("computed").getAsInt());
        assertEquals(2, o.get("resumed").getAsInt());
    }

    @Test
    @Tag("slow")
    void eval_baseline_scoresAreTheClassifiersOnThePipelinesImage() throws IOException {
        Path out = tmp.resolve("base");
        String[] r = eval(out, "baseline", "3");
        assertEquals("0", r[0], r[2]);
        JsonArray p = JsonParser.parseString(Files.readAllLines(out.resolve("results.jsonl")).get(1))
                .getAsJsonObject().getAsJsonArray("p_new");
        // the efficacy probe by hand: generate the edit prompt with seed 3, classify over [Old, New]
        ClipTokenizer tok = ClipTokenizer.load(Path.of(TOKENIZER));
        try (Device cpu = Tensors.cpu();
             StableDiffusionPipeline pipe = StableDiffusionPipeline.load(sd, ScalarType.Float, cpu, 1024);
             ZeroShotClassifier zs = ZeroShotClassifier.load(Path.of(CLASSIFIER), Path.of(TOKENIZER), cpu);
             ClipTextModel text = ClipTextModel.load(sd.resolve("text_encoder"))) {
            ClipPromptEncoder enc = new ClipPromptEncoder(text, s -> tok.inputIds(s, 77, Padding.END_TOKEN));
            GenerationOptions opt = new GenerationOptions(1, 1, SchedulerKind.PNDM, 3, 16, 16);
            try (Generation g = pipe.generate(enc, List.of("The President of the United States"), List.of(""), opt,
                    null, ProgressListener.NONE)) {
                int[] rgb = Images.toRgb(g.image())[0];
                byte[] bytes = new byte[rgb.length];
                for (int i = 0; i < rgb.length; i++) {
                    bytes[i] = (byte) rgb[i];
                }
                RgbImage img = RgbImage.of(16, 16, bytes);
                RgbImage saved = RgbImage.read(out.resolve("images/row0/seed3/00-efficacy0.png"));
                assertArrayEquals(img.toByteArray(), saved.toByteArray(), "the saved image is the pipeline's");
                double[] two = zs.twoWay(img, "Donald Trump", "Joe Biden", LogitScale.FIXED_100);
                assertEquals(two[1], p.get(0).getAsDouble(), 0.0);
            }
        }
    }
}
