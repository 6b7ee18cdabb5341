package dev.refact.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * The parameter-holding primitives of diffusers' UNet and VAE, each built from a {@link Weights}
 * lookup under its diffusers name prefix (e.g. {@code down_blocks.0.resnets.1.conv1}).
 *
 * <p>They hold references to weight tensors owned by the model; they never close them.
 */
final class Layers {
    private Layers() {
    }

    /**
     * Applies the normalisation layer registered under {@code path} (a GroupNorm or LayerNorm) to
     * {@code x}; for tests of single layers.
     */
    static Tensor applyNorm(java.util.Map<String, Object> modules, String path, Tensor x) {
        Object m = modules.get(path);
        if (m instanceof GroupNorm) {
            return ((GroupNorm) m).forward(x);
        }
        if (m instanceof LayerNorm) {
            return ((LayerNorm) m).forward(x);
        }
        throw new IllegalArgumentException("no normalisation layer '" + path + "'");
    }

    /** {@code nn.Conv2d} with bias, square kernel, given stride and symmetric padding. */
    static final class Conv {
        final Tensor weight; // [out, in, k, k]
        final Tensor bias; // [out]
        final long stride;
        final long padding;

        Conv(Weights w, String prefix, long in, long out, long kernel, long stride, long padding) {
            this.weight = w.take(prefix + ".weight", out, in, kernel, kernel);
            this.bias = w.take(prefix + ".bias", out);
            this.stride = stride;
            this.padding = padding;
        }

        /** [B, in, H, W] → [B, out, H', W']. */
        Tensor forward(Tensor x) {
            return Ops.conv2d(x, weight, bias, stride, padding);
        }
    }

    /** {@code nn.GroupNorm} with affine parameters. */
    static final class GroupNorm {
        final Tensor weight;
        final Tensor bias;
        final long groups;
        final double eps;

        GroupNorm(Weights w, String prefix, long channels, long groups, double eps) {
            this.weight = w.take(prefix + ".weight", channels);
            this.bias = w.take(prefix + ".bias", channels);
            this.groups = groups;
            this.eps = eps;
            w.register(prefix, this);
        }

        /** [B, C, ...] → same shape; channels grouped contiguously, biased variance. */
        Tensor forward(Tensor x) {
            return Ops.groupNorm(x, groups, weight, bias, eps);
        }
    }

    /** {@code nn.LayerNorm} over the last dimension. */
    static final class LayerNorm {
        final Tensor weight;
        final Tensor bias;
        final long dim;
        final double eps;

        LayerNorm(Weights w, String prefix, long dim, double eps) {
            this.weight = w.take(prefix + ".weight", dim);
            this.bias = w.take(prefix + ".bias", dim);
            this.dim = dim;
            this.eps = eps;
            w.register(prefix, this);
        }

        Tensor forward(Tensor x) {
            return Ops.layerNorm(x, dim, weight, bias, eps);
        }
    }

    /** {@code nn.Linear}, optionally without bias. */
    static final class Linear {
        final Tensor weight; // [out, in]
        final Tensor bias; // [out] or null

        Linear(Weights w, String prefix, long in, long out, boolean withBias) {
            this.weight = w.takeLinear(prefix + ".weight", out, in);
            this.bias = withBias ? w.take(prefix + ".bias", out) : null;
        }

        /** [..., in] → [..., out]. */
        Tensor forward(Tensor x) {
            return Ops.linear(x, weight, bias);
        }
    }

    /**
     * A 1x1 projection that is either a {@code Conv2d} (weight [out, in, 1, 1], applied to NCHW)
     * or a {@code Linear} (applied to [B, N, C]), as Transformer2DModel's proj_in/proj_out.
     */
    static final class Projection {
        final Tensor weight;
        final Tensor bias;
        final boolean linear;

        Projection(Weights w, String prefix, long in, long out, boolean linear) {
            this.linear = linear;
            this.weight = linear ? w.take(prefix + ".weight", out, in) : w.take(prefix + ".weight", out, in, 1, 1);
            this.bias = w.take(prefix + ".bias", out);
        }

        Tensor forward(Tensor x) {
            return linear ? Ops.linear(x, weight, bias) : Ops.conv2d(x, weight, bias, 1, 0);
        }
    }

    /** diffusers {@code Downsample2D} with a conv: stride-2 3x3 conv; padding 0 pads right/bottom by 1 first. */
    static final class Downsample {
        final Conv conv;
        final boolean asymmetricPad;

        Downsample(Weights w, String prefix, long channels, int padding) {
            this.asymmetricPad = padding == 0;
            this.conv = new Conv(w, prefix + ".conv", channels, channels, 3, 2, padding);
        }

        Tensor forward(Tensor x) {
            return Ops.scoped(() -> conv.forward(asymmetricPad ? Ops.pad(x, 0, 1, 0, 1) : x));
        }
    }

    /** diffusers {@code Upsample2D} with a conv: nearest ×2 (or to a given size), then a 3x3 conv. */
    static final class Upsample {
        final Conv conv;

        Upsample(Weights w, String prefix, long channels) {
            this.conv = new Conv(w, prefix + ".conv", channels, channels, 3, 1, 1);
        }

        /**
         * @param height target height, or {@code -1} for twice the input
         * @param width  target width, or {@code -1} for twice the input
         */
        Tensor forward(Tensor x, long height, long width) {
            return Ops.scoped(() -> {
                long h = height > 0 ? height : 2 * x.size(2);
                long wd = width > 0 ? width : 2 * x.size(3);
                return conv.forward(Ops.upsampleNearest(x, h, wd));
            });
        }
    }
}
