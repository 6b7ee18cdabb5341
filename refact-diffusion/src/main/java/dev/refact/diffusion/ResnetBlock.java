package dev.refact.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * diffusers {@code ResnetBlock2D} ({@code resnet.py}, time_embedding_norm "default", SiLU):
 * {@code GN → SiLU → conv1 → (+ time_emb_proj(SiLU(temb))[:, :, None, None]) → GN → SiLU → conv2},
 * plus the input (through a 1x1 {@code conv_shortcut} when the channel count changes), divided
 * by {@code outputScaleFactor}.
 */
final class ResnetBlock {
    private final Layers.GroupNorm norm1;
    private final Layers.Conv conv1;
    private final Layers.Linear timeEmbProj; // null in the VAE
    private final Layers.GroupNorm norm2;
    private final Layers.Conv conv2;
    private final Layers.Conv shortcut; // null when in == out
    private final double outputScaleFactor;

    /**
     * @param temb time-embedding width, or 0 for none (VAE)
     */
    ResnetBlock(Weights w, String prefix, long in, long out, long temb, long groups, double eps,
                double outputScaleFactor) {
        this.norm1 = new Layers.GroupNorm(w, prefix + ".norm1", in, groups, eps);
        this.conv1 = new Layers.Conv(w, prefix + ".conv1", in, out, 3, 1, 1);
        this.timeEmbProj = temb > 0 ? new Layers.Linear(w, prefix + ".time_emb_proj", temb, out, true) : null;
        this.norm2 = new Layers.GroupNorm(w, prefix + ".norm2", out, groups, eps);
        this.conv2 = new Layers.Conv(w, prefix + ".conv2", out, out, 3, 1, 1);
        this.shortcut = in != out ? new Layers.Conv(w, prefix + ".conv_shortcut", in, out, 1, 1, 0) : null;
        this.outputScaleFactor = outputScaleFactor;
    }

    /**
     * @param x    [B, in, H, W]
     * @param temb [B, temb] or {@code null}
     * @return [B, out, H, W]
     */
    Tensor forward(Tensor x, Tensor temb) {
        return Ops.scoped(() -> {
            Tensor h = conv1.forward(Ops.silu(norm1.forward(x)));
            if (timeEmbProj != null && temb != null) {
                Tensor t = timeEmbProj.forward(Ops.silu(temb)); // [B, out]
                h = h.add(t.unsqueeze(2).unsqueeze(3));
            }
            h = conv2.forward(Ops.silu(norm2.forward(h)));
            Tensor skip = shortcut != null ? shortcut.forward(x) : x;
            Tensor out = skip.add(h);
            return outputScaleFactor == 1.0 ? out : out.div(new org.bytedeco.pytorch.Scalar(outputScaleFactor));
        });
    }
}
