package dev.refact.diffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The parts of a diffusers {@code vae/config.json} (AutoencoderKL) that this port implements.
 *
 * @param inChannels       image channels ({@code in_channels}, 3)
 * @param outChannels      decoded image channels ({@code out_channels}, 3)
 * @param latentChannels   latent channels ({@code latent_channels}, 4)
 * @param blockOutChannels channels per level ({@code block_out_channels}, SD: 128, 256, 512, 512)
 * @param layersPerBlock   resnets per encoder block; decoder blocks have one more
 * @param normNumGroups    GroupNorm groups (every VAE GroupNorm uses eps 1e-6)
 * @param scalingFactor    latents are divided by it before decoding ({@code scaling_factor}, 0.18215)
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
                        int layersPerBlock, int normNumGroups, double scalingFactor) {

    /**
     * Copies the list. Values are not range-checked here ({@link #read} checks them).
     *
     * @param inChannels       {@code in_channels}
     * @param outChannels      {@code out_channels}
     * @param latentChannels   {@code latent_channels}
     * @param blockOutChannels {@code block_out_channels}, one per level (copied)
     * @param layersPerBlock   {@code layers_per_block}
     * @param normNumGroups    {@code norm_num_groups}
     * @param scalingFactor    {@code scaling_factor}
     */
    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
    }

    /**
     * The Stable Diffusion 1.x VAE.
     *
     * @return the SD 1.x config (3 → 4 latent channels, 128/256/512/512, scaling factor 0.18215)
     */
    public static VaeConfig stableDiffusion1() {
        return new VaeConfig(3, 3, 4, List.of(128, 256, 512, 512), 2, 32, 0.18215);
    }

    /**
     * Pixels per latent along each axis: 2^(levels − 1) (SD: 8).
     *
     * @return the down/upsampling factor f between image and latent sides
     */
    public int scaleFactor() {
        return 1 << (blockOutChannels.size() - 1);
    }

    /**
     * Reads and validates {@code config.json}.
     *
     * @param configJson a diffusers {@code vae/config.json}
     * @return the validated config
     * @throws dev.refact.clip.io.CheckpointFormatException naming the file and the unsupported key/value
     * @throws IOException if the file cannot be read
     */
    public static VaeConfig read(Path configJson) throws IOException {
        ConfigJson c = ConfigJson.read(configJson);
        String cls = c.getString("_class_name", "AutoencoderKL");
        if (!cls.equals("AutoencoderKL")) {
            throw c.error("_class_name", "= \"" + cls + "\" is not supported (expected AutoencoderKL)");
        }
        ConfigBounds.vae(c); // numbers in range before anything is built
        c.requireDefault("act_fn", "silu");
        c.requireDefault("use_quant_conv", true);
        c.requireDefault("use_post_quant_conv", true);
        c.requireDefault("mid_block_add_attention", true);
        c.requireDefault("shift_factor", null);
        c.requireDefault("latents_mean", null);
        c.requireDefault("latents_std", null);
        List<Integer> boc = c.getInts("block_out_channels");
        int n = boc.size();
        if (n == 0) {
            throw c.error("block_out_channels", "is empty");
        }
        List<String> down = c.has("down_block_types") ? c.getStrings("down_block_types") : null;
        List<String> up = c.has("up_block_types") ? c.getStrings("up_block_types") : null;
        if (down != null && (down.size() != n || down.stream().anyMatch(t -> !t.equals("DownEncoderBlock2D")))) {
            throw c.error("down_block_types", "= " + down + " is not supported (expected " + n
                    + " x DownEncoderBlock2D)");
        }
        if (up != null && (up.size() != n || up.stream().anyMatch(t -> !t.equals("UpDecoderBlock2D")))) {
            throw c.error("up_block_types", "= " + up + " is not supported (expected " + n + " x UpDecoderBlock2D)");
        }
        int groups = c.getInt("norm_num_groups", 32);
        for (int ch : boc) {
            if (ch <= 0 || ch % groups != 0) {
                throw c.error("block_out_channels", "= " + boc + ": " + ch + " is not a positive multiple of "
                        + "norm_num_groups " + groups);
            }
        }
        double scaling = c.getDouble("scaling_factor", 0.18215);
        if (!(scaling > 0)) {
            throw c.error("scaling_factor", "= " + scaling + " must be positive");
        }
        return new VaeConfig(c.getInt("in_channels", 3), c.getInt("out_channels", 3), c.getInt("latent_channels", 4),
                boc, c.getInt("layers_per_block", 1), groups, scaling);
    }
}
