package dev.refact.clip;

import static dev.refact.clip.testing.TensorAssertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.testing.TensorAssertions;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.vision.ClipImageProcessor;
import dev.refact.clip.vision.RgbImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The full CLIP model against {@code tiny-clip-full/golden.safetensors} (HF transformers 4.26, cross-checked with
 * open_clip and NumPy). Vision goldens are fed the golden {@code pixel_values}. Tolerance: |a−e| ≤ 1e-5 + 1e-5·|e|
 * for float32 tensors (the fixture's own implementations agree to ≤ 3.2e-6), 1e-5 absolute for probabilities.
 */
final class ClipModelGoldenTest {
    static final double RTOL = 1e-5;
    static final double ATOL = 1e-5;
    static final Path DIR = SharedData.resolve("models/tiny-clip-full");
    static ClipModel model;
    static SafetensorsFile golden;
    static Tensor pixels;
    static Tensor ids;

    @BeforeAll
    static void load() throws IOException {
        model = ClipModel.load(DIR);
        golden = SafetensorsFile.open(DIR.resolve("golden.safetensors"));
        pixels = Tensors.floats(golden.readFloats("pixel_values"), model.vision().device(), 3, 3, 32, 32);
        ids = Tensors.longs(golden.readLongs("text.input_ids"), model.text().device(), 4, 77);
    }

    @AfterAll
    static void close() throws IOException {
        pixels.close();
        ids.close();
        golden.close();
        model.close();
    }

    @Test
    void load_tinyFixture_readsLogitScaleTensorNotConfig() {
        assertEquals(2.9164743423461914, model.logitScale(), 0.0);
        assertEquals(32, model.imageSize());
        assertEquals(16, model.vision().projectionDim());
        assertEquals(17, model.vision().config().numPositions());
    }

    @Test
    void encode_goldenPixels_matchesEmbeddingsHiddenStatesPooledAndImageEmbeds() throws IOException {
        try (PointerScope scope = new PointerScope(); VisionEncoding e = model.vision().encode(pixels, true)) {
            assertAllClose(golden.readFloats("vision.embeddings"), e.embeddings(), RTOL, ATOL, "vision.embeddings");
            assertEquals(3, e.hiddenStates().size());
            for (int i = 0; i < 3; i++) {
                assertAllClose(golden.readFloats("vision.hidden_states." + i), e.hiddenStates().get(i), RTOL, ATOL,
                        "vision.hidden_states." + i);
            }
            assertAllClose(golden.readFloats("vision.hidden_states.2"), e.lastHiddenState(), RTOL, ATOL,
                    "last_hidden_state");
            assertAllClose(golden.readFloats("vision.pooled_output"), e.pooled(), RTOL, ATOL, "vision.pooled_output");
            assertAllClose(golden.readFloats("vision.image_embeds"), e.imageEmbeds(), RTOL, ATOL, "vision.image_embeds");
            assertArrayEquals(new long[] {3, 17, 32}, Tensors.shape(e.lastHiddenState()));
            System.out.printf("vision max|diff|: embeddings %.2e, hidden.2 %.2e, pooled %.2e, image_embeds %.2e%n",
                    diff("vision.embeddings", e.embeddings()), diff("vision.hidden_states.2", e.lastHiddenState()),
                    diff("vision.pooled_output", e.pooled()), diff("vision.image_embeds", e.imageEmbeds()));
        }
    }

    @Test
    void text_goldenIds_matchesTextOutputsOfTheFullModel() throws IOException {
        try (PointerScope scope = new PointerScope(); TextEncoding e = model.text().encode(ids)) {
            assertAllClose(golden.readFloats("text.last_hidden_state"), e.lastHiddenState(), RTOL, ATOL,
                    "text.last_hidden_state");
            assertAllClose(golden.readFloats("text.pooled_output"), e.pooled(), RTOL, ATOL, "text.pooled_output");
            assertAllClose(golden.readFloats("text.text_embeds"), e.textEmbeds(), RTOL, ATOL, "text.text_embeds");
        }
    }

    @Test
    void scores_model_matchesHfLogitsAndFourWayProbs() throws IOException {
        try (PointerScope scope = new PointerScope();
             ClipScores s = model.scores(pixels, ids, LogitScale.MODEL)) {
            assertAllClose(golden.readFloats("vision.image_embeds"), s.imageEmbeds(), RTOL, ATOL, "image_embeds");
            assertAllClose(golden.readFloats("text.text_embeds"), s.textEmbeds(), RTOL, ATOL, "text_embeds");
            assertAllClose(golden.readFloats("clip.cosine"), s.cosine(), RTOL, ATOL, "clip.cosine");
            assertAllClose(golden.readFloats("clip.logits_per_image"), s.logitsPerImage(), RTOL, ATOL,
                    "clip.logits_per_image");
            assertAllClose(golden.readFloats("clip.probs_4way"), s.probs(), 0, ATOL, "clip.probs_4way");
            assertEquals(18.476032328923516, s.scaleValue(), 1e-12);
            System.out.printf("clip max|diff|: cosine %.2e, logits_per_image %.2e, probs_4way %.2e%n",
                    diff("clip.cosine", s.cosine()), diff("clip.logits_per_image", s.logitsPerImage()),
                    diff("clip.probs_4way", s.probs()));
        }
    }

    @Test
    void scores_eachPair_matchesRefactPairProbabilities() throws IOException {
        float[] p100 = golden.readFloats("refact.pair_probs_100");           // [3 images, 2 pairs, 2]
        float[] pModel = golden.readFloats("refact.pair_probs_logit_scale");
        float[] pHf = golden.readFloats("refact.pair_probs_hf_processor");
        float[] l100 = golden.readFloats("refact.pair_logits_100");
        long[] all = golden.readLongs("text.input_ids");
        double worst = 0;
        for (int pair = 0; pair < 2; pair++) {
            long[] two = new long[2 * 77];
            System.arraycopy(all, 2 * pair * 77, two, 0, 2 * 77);
            try (PointerScope scope = new PointerScope()) {
                Tensor pairIds = Tensors.longs(two, model.text().device(), 2, 77);
                try (ClipScores s100 = model.scores(pixels, pairIds, LogitScale.FIXED_100);
                     ClipScores sModel = model.scores(pixels, pairIds, LogitScale.MODEL)) {
                    float[] got100 = Tensors.toFloats(s100.probs());
                    float[] gotModel = Tensors.toFloats(sModel.probs());
                    float[] gotL = Tensors.toFloats(s100.logitsPerImage());
                    for (int img = 0; img < 3; img++) {
                        for (int k = 0; k < 2; k++) {
                            int g = img * 4 + pair * 2 + k;
                            assertEquals(p100[g], got100[img * 2 + k], 1e-5, "pair_probs_100 " + img + "," + pair + "," + k);
                            assertEquals(pModel[g], gotModel[img * 2 + k], 1e-5, "pair_probs_logit_scale");
                            assertEquals(pHf[g], gotModel[img * 2 + k], 1e-5, "pair_probs_hf_processor");
                            assertEquals(l100[g], gotL[img * 2 + k], 1e-4, "pair_logits_100");
                            worst = Math.max(worst, Math.abs(p100[g] - got100[img * 2 + k]));
                        }
                    }
                    assertEquals(100.0, s100.scaleValue());
                    double[][] pr = s100.probabilities();
                    assertEquals(1.0, pr[0][0] + pr[0][1], 1e-6);
                }
            }
        }
        System.out.printf("refact.pair_probs_100 max|diff| %.2e%n", worst);
    }

    @Test
    void scores_pixelsFromPngs_matchGoldenProbsEndToEnd() throws IOException {
        ClipImageProcessor proc = ClipImageProcessor.load(DIR);
        List<RgbImage> imgs = new ArrayList<>();
        for (String f : new String[] {"img0_57x40.png", "img1_40x57.png", "img2_64x64.png"}) {
            imgs.add(RgbImage.read(DIR.resolve("images").resolve(f)));
        }
        try (PointerScope scope = new PointerScope();
             ClipScores s = model.scores(proc.pixelValues(imgs, model.vision().device()), ids, LogitScale.MODEL)) {
            // Preprocessing is exact, so the end-to-end result equals the golden-pixel one.
            assertAllClose(golden.readFloats("clip.probs_4way"), s.probs(), 0, ATOL, "probs from PNGs");
        }
    }

    @Test
    void encode_wrongImageSize_namesShapeAndExpectedSize() {
        try (PointerScope scope = new PointerScope()) {
            Tensor bad = Tensors.floats(new float[3 * 3 * 30 * 30], model.vision().device(), 3, 3, 30, 30);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.vision().encode(bad));
            assertTrue(e.getMessage().contains("[3, 3, 30, 30]") && e.getMessage().contains("32"), e.getMessage());
        }
    }

    @Test
    void load_textOnlyFolder_isRefusedClearly() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> ClipModel.load(SharedData.resolve("models/tiny-random-clip-text")));
        assertTrue(e.getMessage().contains("tiny-random-clip-text"), e.getMessage());
    }

    @Test
    void scores_repeated_areBitIdentical() throws IOException {
        try (PointerScope scope = new PointerScope();
             ClipScores a = model.scores(pixels, ids, LogitScale.FIXED_100);
             ClipScores b = model.scores(pixels, ids, LogitScale.FIXED_100)) {
            assertArrayEquals(Tensors.toFloats(a.probs()), Tensors.toFloats(b.probs()));
        }
    }

    private static double diff(String name, Tensor t) throws IOException {
        return TensorAssertions.maxAbsDiff(golden.readFloats(name), Tensors.toFloats(t));
    }
}
