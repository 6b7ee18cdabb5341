package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;

/**
 * Plausible ranges of the numeric settings in {@code unet/config.json} and {@code vae/config.json}, checked before
 * anything is allocated: a hostile or damaged config ({@code layers_per_block: 100000000}, {@code norm_num_groups:
 * 0}, {@code norm_eps: NaN}) gives a one-line error naming the file and the field instead of an 8 GB heap, a
 * division by zero or a blank image. The ranges are wide: every released SD 1.x/2.x config lies far inside them.
 */
final class ConfigBounds {
    /** Largest channel count of any level. */
    static final int MAX_CHANNELS = 8192;

    private ConfigBounds() {
    }

    static void unet(ConfigJson c) throws CheckpointFormatException {
        c.requireRange("in_channels", 1, 64, true);
        c.requireRange("out_channels", 1, 64, true);
        c.requireRange("block_out_channels", 1, MAX_CHANNELS, true);
        c.requireRange("layers_per_block", 1, 16, true);
        c.requireRange("num_attention_heads", 1, 512, true);
        c.requireRange("attention_head_dim", 1, 512, true);
        c.requireRange("cross_attention_dim", 1, MAX_CHANNELS, true);
        c.requireRange("norm_num_groups", 1, 1024, true);
        c.requireRange("norm_eps", 1e-12, 1, false);
        c.requireRange("freq_shift", -1e6, 1e6, true);
        c.requireRange("downsample_padding", 0, 8, true);
        c.requireRange("mid_block_scale_factor", -1e6, 1e6, false);
        c.requireRange("conv_in_kernel", 1, 15, true);
        c.requireRange("conv_out_kernel", 1, 15, true);
        c.requireRange("sample_size", 1, 4096, true);
    }

    static void vae(ConfigJson c) throws CheckpointFormatException {
        c.requireRange("in_channels", 1, 64, true);
        c.requireRange("out_channels", 1, 64, true);
        c.requireRange("latent_channels", 1, 64, true);
        c.requireRange("block_out_channels", 1, MAX_CHANNELS, true);
        c.requireRange("layers_per_block", 1, 16, true);
        c.requireRange("norm_num_groups", 1, 1024, true);
        c.requireRange("scaling_factor", 1e-6, 1e6, false);
        c.requireRange("sample_size", 1, 8192, true);
    }
}
