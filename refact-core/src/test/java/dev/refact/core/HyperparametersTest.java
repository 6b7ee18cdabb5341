package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

final class HyperparametersTest {
    @Test
    void presets_matchThePaper() {
        Hyperparameters role = Hyperparameters.roleEdits();
        assertEquals(7, role.layer());
        assertEquals(9, Hyperparameters.appearanceEdits().layer());
        assertEquals(0.05, role.learningRate());
        assertEquals(100, role.maxSteps());
        assertEquals(0.99, role.probabilityThreshold());
        assertEquals(0.1, role.weightDecay());
        assertEquals(4.0, role.clampFactor());
        assertEquals(9, role.templates().size());
        assertEquals(20, role.contrastivePrompts().size());
        assertEquals(Similarity.L2, role.similarity());
    }

    @Test
    void toJson_fromJson_roundTrips() {
        Hyperparameters h = Hyperparameters.builder().layer(3).numContrastive(7).similarity(Similarity.COSINE)
                .representation(Representation.POOLED).learningRate(0.1).maxSteps(50).probabilityThreshold(0.9)
                .weightDecay(0.2).clampFactor(2).covarianceDamping(0.01).seed(42).build();
        assertEquals(h, Hyperparameters.fromJson(h.toJson()));
    }

    @Test
    void fromJson_referenceFile_loadsUnmodified() throws IOException {
        String json = Files.readString(SharedData.resolve("refact/hparams/openai_clip-vit-large-patch14-336.json"));
        Hyperparameters h = Hyperparameters.fromJson(json);
        assertEquals(4, h.layer());
        assertEquals(0.5, h.learningRate());
        assertEquals(0.1, h.weightDecay());
        assertEquals(4.0, h.clampFactor());
    }

    @Test
    void fromJson_releasedFile_startsFromReleasedCodePreset() throws IOException {
        String json = Files.readString(SharedData.resolve("refact/hparams/openai_clip-vit-large-patch14-336.json"));
        Hyperparameters h = Hyperparameters.fromJson(json);
        assertEquals(StepCounting.LOOP_ITERATIONS, h.stepCounting());
        assertEquals(0, h.numContrastive());
        assertEquals(Hyperparameters.releasedCode().toBuilder().layer(4).learningRate(0.5).build(), h);
        assertEquals(99, Hyperparameters.fromJson("{\"layers\": [7], \"v_max_grad_steps\": 100}").adamUpdateCap());
        assertEquals(100, Hyperparameters.fromJson("{\"layer\": 7, \"v_max_grad_steps\": 100}").adamUpdateCap());
    }

    @Test
    void fromJson_numContrastiveAbovePool_refusedInEitherKeyOrder() {
        String pool = "[\"c0\", \"c1\", \"c2\", \"c3\", \"c4\", \"c5\", \"c6\", \"c7\", \"c8\", \"c9\"]";
        for (String json : List.of("{\"num_contrastive\": 50, \"contrastive_prompts\": " + pool + "}",
                "{\"contrastive_prompts\": " + pool + ", \"num_contrastive\": 50}")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Hyperparameters.fromJson(json), json);
            assertTrue(e.getMessage().contains("num_contrastive 50") && e.getMessage().contains("[0, 10]"),
                    e.getMessage());
        }
        // N within the pool: the same in either order; a pool alone clamps the preset's N (20) to its size
        assertEquals(Hyperparameters.fromJson("{\"num_contrastive\": 4, \"contrastive_prompts\": " + pool + "}"),
                Hyperparameters.fromJson("{\"contrastive_prompts\": " + pool + ", \"num_contrastive\": 4}"));
        assertEquals(4, Hyperparameters.fromJson("{\"num_contrastive\": 4, \"contrastive_prompts\": " + pool + "}")
                .numContrastive());
        assertEquals(10, Hyperparameters.fromJson("{\"contrastive_prompts\": " + pool + "}").numContrastive());
    }

    @Test
    void fromJson_unknownKey_throwsNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Hyperparameters.fromJson("{\"v_lrr\": 0.1}"));
        assertTrue(e.getMessage().contains("v_lrr"), e.getMessage());
    }

    @Test
    void builder_invalidValues_throwAtOnceNamingTheKey() {
        Hyperparameters.Builder b = Hyperparameters.builder();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.learningRate(-1)).getMessage().contains("v_lr"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.learningRate(Double.NaN)).getMessage()
                .contains("v_lr"));
        assertThrows(IllegalArgumentException.class, () -> b.layer(-1));
        assertThrows(IllegalArgumentException.class, () -> b.probabilityThreshold(1.5));
        assertThrows(IllegalArgumentException.class, () -> b.clampFactor(0));
        assertThrows(IllegalArgumentException.class, () -> b.templates(List.of("no placeholder")));
        assertThrows(IllegalArgumentException.class, () -> b.numContrastive(-2));
        assertThrows(IllegalArgumentException.class, () -> b.numContrastive(51).build());
    }

    @Test
    void contrastivePrompts_seedShufflesDeterministically() {
        Hyperparameters a = Hyperparameters.builder().numContrastive(10).seed(5).build();
        Hyperparameters b = Hyperparameters.builder().numContrastive(10).seed(5).build();
        Hyperparameters c = Hyperparameters.builder().numContrastive(10).seed(0).build();
        assertEquals(a.contrastivePrompts(), b.contrastivePrompts());
        assertEquals(ContextTemplates.DEFAULT_CONTRASTIVE.subList(0, 10), c.contrastivePrompts());
        assertTrue(!a.contrastivePrompts().equals(c.contrastivePrompts()));
    }
}
