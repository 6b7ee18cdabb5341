package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad checkpoints and configs: one clear error naming the file and what is wrong. */
final class LoadingTest {

    @Test
    void readConfig_tinyFixture_matchesDiffusersConfig() throws IOException {
        UNetConfig c = UNetConfig.read(Golden.component("unet/config.json"));
        assertEquals(java.util.List.of(32, 64), c.blockOutChannels());
        assertEquals(java.util.List.of(8, 8), c.attentionHeads());
        assertEquals(32, c.crossAttentionDim());
        assertEquals(0.18215, VaeConfig.read(Golden.component("vae/config.json")).scalingFactor());
        assertEquals(2, VaeConfig.read(Golden.component("vae/config.json")).scaleFactor());
    }

    @Test
    void load_unsupportedDownBlockType_namesFileAndValue(@TempDir Path dir) throws IOException {
        Path unet = copyUnet(dir, "down_block_types", "[\"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\"]");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> UNet2DConditionModel.load(unet, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains(unet.resolve("config.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("SimpleCrossAttnDownBlock2D"), e.getMessage());
    }

    @Test
    void load_unsupportedTimeEmbedding_namesKey(@TempDir Path dir) throws IOException {
        Path unet = copyUnet(dir, "time_embedding_type", "\"fourier\"");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> UNet2DConditionModel.load(unet, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("time_embedding_type") && e.getMessage().contains("fourier"), e.getMessage());
    }

    @Test
    void load_configNotMatchingWeights_listsMissingAndUnexpectedKeys(@TempDir Path dir) throws IOException {
        // swapping the block types moves the attention weights to the other level
        Path unet = copyUnet(dir, "down_block_types", "[\"DownBlock2D\", \"CrossAttnDownBlock2D\"]");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> UNet2DConditionModel.load(unet, ScalarType.Float, Tensors.cpu(), 0));
        String m = e.getMessage();
        assertTrue(m.contains("missing") && m.contains("down_blocks.1.attentions.0.norm.weight"), m);
        assertTrue(m.contains("unexpected") && m.contains("down_blocks.0.attentions.0"), m);
        assertTrue(m.contains("diffusion_pytorch_model.safetensors"), m);
    }

    @Test
    void load_wrongChannelCount_reportsShapes(@TempDir Path dir) throws IOException {
        Path unet = copyUnet(dir, "cross_attention_dim", "48");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> UNet2DConditionModel.load(unet, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("attn2.to_k.weight has shape [32, 32], expected [32, 48]"), e.getMessage());
    }

    @Test
    void loadPipeline_missingVaeFolder_namesFolder(@TempDir Path dir) throws IOException {
        copyUnet(dir, "act_fn", "\"silu\"");
        Files.createDirectories(dir.resolve("scheduler"));
        Files.copy(Golden.component("scheduler/scheduler_config.json"), dir.resolve("scheduler/scheduler_config.json"));
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(dir, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains(dir.resolve("vae").toString()), e.getMessage());
    }

    @Test
    void loadPipeline_missingSchedulerConfig_namesFile(@TempDir Path dir) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(dir, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("scheduler_config.json"), e.getMessage());
    }

    @Test
    void loadVae_pickleOnly_refusesWithHint(@TempDir Path dir) throws IOException {
        Path vae = Files.createDirectories(dir.resolve("vae"));
        Files.copy(Golden.component("vae/config.json"), vae.resolve("config.json"));
        Files.write(vae.resolve("diffusion_pytorch_model.bin"), new byte[] {0x50, 0x4b});
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> AutoencoderKL.load(vae, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("pickle"), e.getMessage());
    }

    /** Copies the tiny unet folder with one config.json key replaced (the fixture stays untouched). */
    private static Path copyUnet(Path dir, String key, String json) throws IOException {
        Path unet = Files.createDirectories(dir.resolve("unet"));
        com.google.gson.JsonObject cfg = com.google.gson.JsonParser.parseString(
                Files.readString(Golden.component("unet/config.json"))).getAsJsonObject();
        assertTrue(cfg.has(key), key);
        cfg.add(key, com.google.gson.JsonParser.parseString(json));
        Files.writeString(unet.resolve("config.json"), cfg.toString());
        Files.copy(Golden.component("unet/diffusion_pytorch_model.safetensors"),
                unet.resolve("diffusion_pytorch_model.safetensors"));
        return unet;
    }
}
