package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.testing.SdSingleFiles;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny pipe written as an SD 1.x single file (LDM names, VAE attention as 1x1 convolutions, plus unrelated
 * text-encoder / schedule / EMA tensors) loads and generates exactly like its diffusers folder.
 */
class SingleFileTest {
    private static final Path PIPE = SharedData.resolve("models/tiny-sd-pipe");

    @Test
    void singleFile_knownLdmNames_areWhereSd15HasThem(@TempDir Path dir) throws IOException {
        Path f = SdSingleFiles.write(dir, null);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertTrue(LdmCheckpoint.isSingleFile(f));
            UNetConfig c = LdmCheckpoint.unetConfig(sf);
            UNetConfig folder = UNetConfig.read(PIPE.resolve("unet/config.json"));
            assertEquals(folder.blockOutChannels(), c.blockOutChannels());
            assertEquals(folder.layersPerBlock(), c.layersPerBlock());
            assertEquals(folder.downBlockTypes(), c.downBlockTypes());
            assertEquals(folder.upBlockTypes(), c.upBlockTypes());
            assertEquals(folder.crossAttentionDim(), c.crossAttentionDim());
            assertEquals(folder.attentionHeads(), c.attentionHeads());
            assertEquals(VaeConfig.read(PIPE.resolve("vae/config.json")), LdmCheckpoint.vaeConfig(sf));
            // the mapping on the SD 1.5 config gives the names real SD 1.5 files use
            UNetConfig sd = UNetConfig.stableDiffusion1();
            assertEquals("model.diffusion_model.output_blocks.2.1.conv.weight",
                    LdmCheckpoint.unetName(sd, "up_blocks.0.upsamplers.0.conv.weight"));
            assertEquals("model.diffusion_model.output_blocks.5.2.conv.bias",
                    LdmCheckpoint.unetName(sd, "up_blocks.1.upsamplers.0.conv.bias"));
            assertEquals("model.diffusion_model.input_blocks.9.0.op.weight",
                    LdmCheckpoint.unetName(sd, "down_blocks.2.downsamplers.0.conv.weight"));
            assertEquals("model.diffusion_model.output_blocks.11.1.transformer_blocks.0.attn2.to_k.weight",
                    LdmCheckpoint.unetName(sd, "up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_k.weight"));
            assertEquals("model.diffusion_model.input_blocks.7.0.skip_connection.weight",
                    LdmCheckpoint.unetName(sd, "down_blocks.2.resnets.0.conv_shortcut.weight"));
            assertEquals("first_stage_model.decoder.up.3.upsample.conv.weight",
                    LdmCheckpoint.vaeName(VaeConfig.stableDiffusion1(), "decoder.up_blocks.0.upsamplers.0.conv.weight"));
        }
    }

    @Test
    void singleFile_generatesTheSameImagesAsTheFolder(@TempDir Path dir) throws IOException {
        Path f = SdSingleFiles.write(dir, null);
        assertEquals(SchedulerConfig.read(PIPE.resolve("scheduler/scheduler_config.json")),
                SchedulerConfig.stableDiffusion1());
        GenerationOptions o = new GenerationOptions(3, 7.5, SchedulerKind.PNDM, 5, 32, 24);
        try (StableDiffusionPipeline folder = StableDiffusionPipeline.load(PIPE, ScalarType.Float, Tensors.cpu(), 0);
             StableDiffusionPipeline single = StableDiffusionPipeline.load(f, ScalarType.Float, Tensors.cpu(), 0);
             PointerScope scope = new PointerScope()) {
            assertEquals(folder.unet().parameterCount(), single.unet().parameterCount());
            assertEquals(folder.vae().parameterCount(), single.vae().parameterCount());
            Random rnd = new Random(9);
            float[] e = new float[2 * 77 * 32];
            for (int i = 0; i < e.length; i++) {
                e[i] = (float) rnd.nextGaussian();
            }
            Tensor cond = Tensors.floats(e, Tensors.cpu(), 2, 77, 32).narrow(0, 1, 1);
            Tensor uncond = Tensors.floats(e, Tensors.cpu(), 2, 77, 32).narrow(0, 0, 1);
            try (Generation a = folder.generate(cond, uncond, o, null, null);
                 Generation b = single.generate(cond, uncond, o, null, null)) {
                assertArrayEquals(Tensors.toFloats(a.latents()), Tensors.toFloats(b.latents()));
                assertArrayEquals(Tensors.toFloats(a.image()), Tensors.toFloats(b.image()));
            }
        }
    }

    @Test
    void singleFile_missingTensor_namedInOneError(@TempDir Path dir) throws IOException {
        Path f = SdSingleFiles.write(dir, "first_stage_model.decoder.mid.attn_1.q.weight");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(f, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("tiny-sd.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("first_stage_model.decoder.mid.attn_1.q.weight"), e.getMessage());
        assertEquals(List.of(), List.of(e.getMessage().split("\n")).subList(1, e.getMessage().split("\n").length));
    }

    @Test
    void singleFile_sd2AndSdxlUnets_refusedByName(@TempDir Path dir) throws IOException {
        Path sd2 = dir.resolve("sd2.safetensors");
        new dev.refact.clip.io.SafetensorsWriter()
                .addFloats("model.diffusion_model.input_blocks.0.0.weight", new float[4 * 4 * 9], 4, 4, 3, 3)
                .addFloats("model.diffusion_model.input_blocks.1.1.proj_in.weight", new float[16], 4, 4)
                .write(sd2);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(sd2, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("model.diffusion_model.input_blocks.1.1.proj_in.weight")
                && e.getMessage().contains("2.x"), e.getMessage());
        Path xl = dir.resolve("xl.safetensors");
        new dev.refact.clip.io.SafetensorsWriter()
                .addFloats("model.diffusion_model.input_blocks.0.0.weight", new float[4 * 4 * 9], 4, 4, 3, 3)
                .addFloats("model.diffusion_model.label_emb.0.0.weight", new float[16], 4, 4)
                .write(xl);
        e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(xl, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("SDXL") && e.getMessage().contains("xl.safetensors"), e.getMessage());
    }

    @Test
    void singleFile_hugeBlockIndex_refusedNamingTheTensor(@TempDir Path dir) throws IOException {
        for (String index : new String[] {"99999999999", "2000000000"}) {
            Path f = dir.resolve("huge" + index.length() + ".safetensors");
            String name = "model.diffusion_model.input_blocks." + index + ".0.weight";
            new dev.refact.clip.io.SafetensorsWriter()
                    .addFloats("model.diffusion_model.input_blocks.0.0.weight", new float[4 * 4 * 9], 4, 4, 3, 3)
                    .addFloats("model.diffusion_model.out.2.weight", new float[4 * 4 * 9], 4, 4, 3, 3)
                    .addFloats(name, new float[1], 1)
                    .write(f);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> StableDiffusionPipeline.load(f, ScalarType.Float, Tensors.cpu(), 0));
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains("out of range"), e.getMessage());
        }
    }

    @Test
    void singleFile_unexpectedUnetTensor_named_butVaeLossIgnored(@TempDir Path dir) throws IOException {
        Path f = SdSingleFiles.write(dir, null);
        Path g = dir.resolve("extra.safetensors");
        dev.refact.clip.io.SafetensorsWriter w = new dev.refact.clip.io.SafetensorsWriter();
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            for (String n : sf.names()) {
                w.addFloats(n, sf.readFloats(n), sf.info(n).shape());
            }
        }
        w.addFloats("first_stage_model.loss.logvar", new float[] {0f});
        w.write(g);
        try (AutoencoderKL vae = AutoencoderKL.loadSingleFile(g, ScalarType.Float, Tensors.cpu(), 0)) {
            assertEquals(4, vae.config().latentChannels());
        }
        w.addFloats("model.diffusion_model.middle_block.3.weight", new float[] {0f});
        w.write(g);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> UNet2DConditionModel.loadSingleFile(g, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("unexpected 1 [model.diffusion_model.middle_block.3.weight]"),
                e.getMessage());
    }
}
