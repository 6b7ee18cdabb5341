package dev.refact.clip.testing;

import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * A Stable Diffusion 1.x single file (original LDM layout) built from the shared tiny fixtures, for the tests of
 * single-file loading. The LDM names come from a table written for the tiny config (2 levels, 2 resnets per down
 * block, up blocks UpBlock2D + CrossAttnUpBlock2D; VAE 2 levels, 1 resnet per encoder block), independent of the
 * library's mapping code; VAE attention weights are stored as 1x1 convolutions as in LDM files.
 */
public final class SdSingleFiles {
    private static final Path PIPE = SharedData.resolve("models/tiny-sd-pipe");
    private static final Path CLIP = SharedData.resolve("models/tiny-random-clip-text");

    private SdSingleFiles() {
    }

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

    /**
     * Writes {@code dir/tiny-sd.safetensors}: the tiny pipe's UNet and VAE in LDM layout, the tiny CLIP text encoder
     * under {@code cond_stage_model.transformer.}, and unrelated {@code alphas_cumprod} / {@code model_ema.decay}.
     *
     * @param drop an LDM tensor name to leave out, or {@code null}
     */
    public static Path write(Path dir, String drop) throws IOException {
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
        try (SafetensorsFile clip = SafetensorsFile.open(CLIP.resolve("model.safetensors"))) {
            for (String n : clip.names()) {
                w.addFloats("cond_stage_model.transformer." + n, clip.readFloats(n), clip.info(n).shape());
            }
        }
        w.addFloats("alphas_cumprod", new float[1000], 1000);
        w.addFloats("model_ema.decay", new float[] {0.9999f});
        Path file = dir.resolve("tiny-sd.safetensors");
        w.write(file);
        return file;
    }
}
