package dev.refact.diffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The parts of a diffusers {@code unet/config.json} (UNet2DConditionModel) that this port
 * implements, validated: every other setting must have its Stable Diffusion 1.x value.
 *
 * @param inChannels          latent channels in ({@code in_channels}, SD: 4)
 * @param outChannels         noise channels out ({@code out_channels}, SD: 4)
 * @param blockOutChannels    channels per resolution level ({@code block_out_channels}, SD: 320, 640, 1280, 1280)
 * @param layersPerBlock      resnets per down block; up blocks have one more ({@code layers_per_block})
 * @param downBlockTypes      {@code CrossAttnDownBlock2D} or {@code DownBlock2D} per level
 * @param upBlockTypes        {@code CrossAttnUpBlock2D} or {@code UpBlock2D} per level
 * @param attentionHeads      number of heads per down level ({@code num_attention_heads}, or
 *                            {@code attention_head_dim}, which SD 1.x uses for the head COUNT); up
 *                            blocks use the list reversed, the mid block the last entry
 * @param crossAttentionDim   width of the text states ({@code cross_attention_dim}, SD 1.x: 768)
 * @param normNumGroups       GroupNorm groups ({@code norm_num_groups}, 32)
 * @param normEps             GroupNorm eps of resnets and the output norm ({@code norm_eps}, 1e-5)
 * @param flipSinToCos        timestep embedding order [cos, sin] ({@code flip_sin_to_cos})
 * @param freqShift           timestep embedding frequency shift ({@code freq_shift})
 * @param useLinearProjection Transformer2D proj_in/proj_out as Linear instead of 1x1 conv
 * @param onlyCrossAttention  per down level: attn1 also attends to the text ({@code only_cross_attention})
 * @param upcastAttention     compute attention in float32 ({@code upcast_attention})
 * @param downsamplePadding   padding of the stride-2 downsampling conv ({@code downsample_padding})
 * @param midBlockScaleFactor output scale of the mid-block resnets ({@code mid_block_scale_factor})
 * @param convInKernel        kernel size of conv_in ({@code conv_in_kernel})
 * @param convOutKernel       kernel size of conv_out ({@code conv_out_kernel})
 * @param centerInputSample   map the input from [0,1] to [-1,1] first ({@code center_input_sample})
 * @param sampleSize          native latent size ({@code sample_size}, SD 1.x: 64)
 */
public record UNetConfig(int inChannels, int outChannels, List<Integer> blockOutChannels, int layersPerBlock,
                         List<String> downBlockTypes, List<String> upBlockTypes, List<Integer> attentionHeads,
                         int crossAttentionDim, int normNumGroups, double normEps, boolean flipSinToCos,
                         int freqShift, boolean useLinearProjection, List<Boolean> onlyCrossAttention,
                         boolean upcastAttention, int downsamplePadding, double midBlockScaleFactor,
                         int convInKernel, int convOutKernel, boolean centerInputSample, int sampleSize) {

    /**
     * Copies the lists. Values are not range-checked here ({@link #read} checks them).
     *
     * @param inChannels          {@code in_channels}
     * @param outChannels         {@code out_channels}
     * @param blockOutChannels    {@code block_out_channels}, one per level (copied)
     * @param layersPerBlock      {@code layers_per_block}
     * @param downBlockTypes      {@code down_block_types}, one per level (copied)
     * @param upBlockTypes        {@code up_block_types}, one per level (copied)
     * @param attentionHeads      heads per down level (copied)
     * @param crossAttentionDim   {@code cross_attention_dim}
     * @param normNumGroups       {@code norm_num_groups}
     * @param normEps             {@code norm_eps}
     * @param flipSinToCos        {@code flip_sin_to_cos}
     * @param freqShift           {@code freq_shift}
     * @param useLinearProjection {@code use_linear_projection}
     * @param onlyCrossAttention  {@code only_cross_attention}, one per down level (copied)
     * @param upcastAttention     {@code upcast_attention}
     * @param downsamplePadding   {@code downsample_padding}
     * @param midBlockScaleFactor {@code mid_block_scale_factor}
     * @param convInKernel        {@code conv_in_kernel}
     * @param convOutKernel       {@code conv_out_kernel}
     * @param centerInputSample   {@code center_input_sample}
     * @param sampleSize          {@code sample_size}
     */
    public UNetConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        attentionHeads = List.copyOf(attentionHeads);
        onlyCrossAttention = List.copyOf(onlyCrossAttention);
    }

    /**
     * The Stable Diffusion v1.4/v1.5 UNet (860 M parameters).
     *
     * @return the SD 1.x config (4 latent channels, 320/640/1280/1280, 8 heads, cross-attention width 768)
     */
    public static UNetConfig stableDiffusion1() {
        return new UNetConfig(4, 4, List.of(320, 640, 1280, 1280), 2,
                List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                List.of(8, 8, 8, 8), 768, 32, 1e-5, true, 0, false, List.of(false, false, false, false), false, 1, 1.0,
                3, 3, false, 64);
    }

    /**
     * Dimension of the time embedding: 4 × {@code blockOutChannels[0]}.
     *
     * @return the time embedding width (SD 1.x: 1280)
     */
    public int timeEmbedDim() {
        return 4 * blockOutChannels.get(0);
    }

    /**
     * Reads and validates {@code config.json}.
     *
     * @param configJson a diffusers {@code unet/config.json}
     * @return the validated config
     * @throws dev.refact.clip.io.CheckpointFormatException naming the file and the unsupported key/value
     * @throws IOException if the file cannot be read
     */
    public static UNetConfig read(Path configJson) throws IOException {
        ConfigJson c = ConfigJson.read(configJson);
        String cls = c.getString("_class_name", "UNet2DConditionModel");
        if (!cls.equals("UNet2DConditionModel")) {
            throw c.error("_class_name", "= \"" + cls + "\" is not supported (expected UNet2DConditionModel)");
        }
        ConfigBounds.unet(c); // numbers in range before anything is built
        c.requireDefault("act_fn", "silu");
        c.requireDefault("class_embed_type", null);
        c.requireDefault("num_class_embeds", null);
        c.requireDefault("time_embedding_type", "positional");
        c.requireDefault("resnet_time_scale_shift", "default");
        c.requireDefault("dual_cross_attention", false);
        c.requireDefault("time_cond_proj_dim", null);
        c.requireDefault("timestep_post_act", null);
        c.requireDefault("addition_embed_type", null);
        c.requireDefault("encoder_hid_dim", null);
        c.requireDefault("encoder_hid_dim_type", null);
        c.requireDefault("projection_class_embeddings_input_dim", null);
        c.requireDefault("class_embeddings_concat", false);
        c.requireDefault("time_embedding_act_fn", null);
        c.requireDefault("time_embedding_dim", null);
        c.requireDefault("cross_attention_norm", null);
        c.requireDefault("resnet_skip_time_act", false);
        c.requireDefault("resnet_out_scale_factor", 1.0);
        c.requireDefault("transformer_layers_per_block", 1);
        c.requireDefault("reverse_transformer_layers_per_block", null);
        c.requireDefault("attention_type", "default");
        c.requireDefault("addition_time_embed_dim", null);
        c.requireDefault("mid_block_only_cross_attention", null);
        c.requireDefault("mid_block_type", "UNetMidBlock2DCrossAttn");
        c.requireDefault("dropout", 0.0);

        List<Integer> boc = c.getInts("block_out_channels");
        int n = boc.size();
        if (n == 0) {
            throw c.error("block_out_channels", "is empty");
        }
        List<String> down = c.getStrings("down_block_types");
        List<String> up = c.getStrings("up_block_types");
        if (down.size() != n || up.size() != n) {
            throw c.error("down_block_types", "has " + down.size() + " entries and up_block_types " + up.size()
                    + ", but block_out_channels has " + n);
        }
        for (String t : down) {
            if (!t.equals("CrossAttnDownBlock2D") && !t.equals("DownBlock2D")) {
                throw c.error("down_block_types", "contains \"" + t + "\", which is not supported "
                        + "(supported: CrossAttnDownBlock2D, DownBlock2D)");
            }
        }
        for (String t : up) {
            if (!t.equals("CrossAttnUpBlock2D") && !t.equals("UpBlock2D")) {
                throw c.error("up_block_types", "contains \"" + t + "\", which is not supported "
                        + "(supported: CrossAttnUpBlock2D, UpBlock2D)");
            }
        }
        List<Integer> heads = c.has("num_attention_heads")
                ? c.getIntOrList("num_attention_heads", n, null)
                : c.getIntOrList("attention_head_dim", n, 8);
        int groups = c.getInt("norm_num_groups", 32);
        for (int i = 0; i < n; i++) {
            int ch = boc.get(i);
            if (ch <= 0 || ch % groups != 0) {
                throw c.error("block_out_channels", "= " + boc + ": " + ch + " is not a positive multiple of "
                        + "norm_num_groups " + groups);
            }
            if (heads.get(i) <= 0 || ch % heads.get(i) != 0) {
                throw c.error("attention_head_dim", "= " + heads + ": " + heads.get(i)
                        + " heads do not divide " + ch + " channels");
            }
        }
        int cross;
        try {
            cross = c.requireInt("cross_attention_dim");
        } catch (dev.refact.clip.io.CheckpointFormatException e) {
            throw c.error("cross_attention_dim", "must be one integer (per-block lists are not supported)");
        }
        return new UNetConfig(c.getInt("in_channels", 4), c.getInt("out_channels", 4), boc,
                c.getInt("layers_per_block", 2), down, up, heads, cross, groups, c.getDouble("norm_eps", 1e-5),
                c.getBool("flip_sin_to_cos", true), c.getInt("freq_shift", 0),
                c.getBool("use_linear_projection", false), c.getBoolOrList("only_cross_attention", n, false),
                c.getBool("upcast_attention", false), c.getInt("downsample_padding", 1),
                c.getDouble("mid_block_scale_factor", 1.0), c.getInt("conv_in_kernel", 3),
                c.getInt("conv_out_kernel", 3), c.getBool("center_input_sample", false), c.getInt("sample_size", 64));
    }
}
