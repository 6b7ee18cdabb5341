package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
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

    // Independent of LdmCheckpoint: the LDM names of the tiny config (2 levels, 2 resnets per down block, up block 0
    // UpBlock2D, up block 1 CrossAttnUpBlock2D; VAE 2 levels, 1 resnet per encoder block), as a prefix table.
    private static final String[][] UNET_PREFIXES = {
        {"time_embedding.linear_1.", "time_embed.0."}, {"time_embedding.linear_2.", "time_embed.2."},
        {"conv_in.", "input_blocks.0.0."}, {"conv_norm_out.", "out.0."}, {"conv_out.", "out.2."},
        {"down_blocks.0.resnets.0.", "input_blocks.1.0."}, {"down_blocks.0.attentions.0.", "input_blocks.1.1."},
        {"down_blocks.0.resnets.1.", "input_blocks.2.0."}, {"down_blocks.0.attentions.1.", "input_blocks.2.1."},
        {"down_blocks.0.downsamplers.0.conv.", "input_blocks.3.0.op."},
        {"down_blocks.1.resnets.0.", "input_blocks.4.0."}, {"down_blocks.1.resnets.1.", "input_blocks.5.0."},
        {"mid_block.resnets.0.", "middle_block.0."}, {"mid_block.attentions.0.", "middle_block.1."},
        {"mid_block.resnets.1.", "middle_block.2."},
        {"up_blocks.0.resnets.0.", "output_blocks.0.0."}, {"up_blocks.0.resnets.1.", "output_blocks.1.0."},
        {"up_blocks.0.resnets.2.", "output_blocks.2.0."}, {"up_blocks.0.upsamplers.0.conv.", "output_blocks.2.1.conv."},
        {"up_blocks.1.resnets.0.", "output_blocks.3.0."}, {"up_blocks.1.attentions.0.", "output_blocks.3.1."},
        {"up_blocks.1.resnets.1.", "output_blocks.4.0."}, {"up_blocks.1.attentions.1.", "output_blocks.4.1."},
        {"up_blocks.1.resnets.2.", "output_blocks.5.0."}, {"up_blocks.1.attentions.2.", "output_blocks.5.1."},
    };
    private static final String[][] RESNET = {
        {"norm1.", "in_layers.0."}, {"conv1.", "in_layers.2."}, {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."},
        {"time_emb_proj.", "emb_layers.1."}, {"conv_shortcut.", "skip_connection."},
    };
    private static final String[][] VAE_PREFIXES = {
        {"encoder.down_blocks.0.resnets.0.", "encoder.down.0.block.0."},
        {"encoder.down_blocks.0.downsamplers.0.", "encoder.down.0.downsample."},
        {"encoder.down_blocks.1.resnets.0.", "encoder.down.1.block.0."},
        {"encoder.mid_block.resnets.0.", "encoder.mid.block_1."}, {"encoder.mid_block.resnets.1.", "encoder.mid.block_2."},
        {"encoder.mid_block.attentions.0.", "encoder.mid.attn_1."}, {"encoder.conv_norm_out.", "encoder.norm_out."},
        {"decoder.mid_block.resnets.0.", "decoder.mid.block_1."}, {"decoder.mid_block.resnets.1.", "decoder.mid.block_2."},
        {"decoder.mid_block.attentions.0.", "decoder.mid.attn_1."}, {"decoder.conv_norm_out.", "decoder.norm_out."},
        {"decoder.up_blocks.0.resnets.", "decoder.up.1.block."}, {"decoder.up_blocks.0.upsamplers.0.", "decoder.up.1.upsample."},
        {"decoder.up_blocks.1.resnets.", "decoder.up.0.block."},
    };
    private static final String[][] VAE_ATTN = {
        {"group_norm.", "norm."}, {"query.", "q."}, {"key.", "k."}, {"value.", "v."}, {"proj_attn.", "proj_out."},
    };

    private static String rename(String name, String[][] prefixes, String[][] inner, Predicate<String> resnet) {
        for (String[] p : prefixes) {
            if (name.startsWith(p[0])) {
                String rest = name.substring(p[0].length());
                if (resnet.test(p[0])) {
                    for (String[] q : inner) {
                        if (rest.startsWith(q[0])) {
                            rest = q[1] + rest.substring(q[0].length());
                        }
                    }
                }
                return p[1] + rest;
            }
        }
        return name;
    }

    /** Writes the tiny pipe as an LDM single file; {@code drop} leaves one LDM tensor out. */
    static Path writeSingleFile(Path dir, String drop) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile unet = SafetensorsFile.open(PIPE.resolve("unet/diffusion_pytorch_model.safetensors"));
             SafetensorsFile vae = SafetensorsFile.open(PIPE.resolve("vae/diffusion_pytorch_model.safetensors"))) {
            for (String n : unet.names()) {
                String ldm = "model.diffusion_model." + rename(n, UNET_PREFIXES, RESNET,
                        p -> p.contains("resnets") || p.startsWith("mid_block.resnets"));
                if (!ldm.equals(drop)) {
                    w.addFloats(ldm, unet.readFloats(n), unet.info(n).shape());
                }
            }
            for (String n : vae.names()) {
                String r = rename(n, VAE_PREFIXES, null, p -> false);
                long[] shape = vae.info(n).shape();
                if (n.contains("mid_block.attentions.0.")) {
                    r = rename(n, VAE_PREFIXES, VAE_ATTN, p -> true);
                    if (shape.length == 2) {
                        shape = new long[] {shape[0], shape[1], 1, 1}; // LDM: 1x1 convolutions
                    }
                } else {
                    r = r.replace(".conv_shortcut.", ".nin_shortcut.");
                }
                String ldm = "first_stage_model." + r;
                if (!ldm.equals(drop)) {
                    w.addFloats(ldm, vae.readFloats(n), shape);
                }
            }
        }
        Random rnd = new Random(1);
        float[] emb = new float[49408 * 4];
        for (int i = 0; i < emb.length; i++) {
            emb[i] = (float) rnd.nextGaussian();
        }
        w.addFloats("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", emb, 49408, 4);
        w.addFloats("alphas_cumprod", new float[1000], 1000);
        w.addFloats("model_ema.decay", new float[] {0.9999f});
        Path file = dir.resolve("tiny-sd.safetensors");
        w.write(file);
        return file;
    }

    @Test
    void singleFile_knownLdmNames_areWhereSd15HasThem(@TempDir Path dir) throws IOException {
        Path f = writeSingleFile(dir, null);
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
        Path f = writeSingleFile(dir, null);
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
        Path f = writeSingleFile(dir, "first_stage_model.decoder.mid.attn_1.q.weight");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> StableDiffusionPipeline.load(f, ScalarType.Float, Tensors.cpu(), 0));
        assertTrue(e.getMessage().contains("tiny-sd.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("first_stage_model.decoder.mid.attn_1.q.weight"), e.getMessage());
        assertEquals(List.of(), List.of(e.getMessage().split("\n")).subList(1, e.getMessage().split("\n").length));
    }
}
