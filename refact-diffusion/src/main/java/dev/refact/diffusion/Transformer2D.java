package dev.refact.diffusion;

import org.bytedeco.pytorch.Tensor;

/**
 * diffusers {@code Transformer2DModel} (continuous input) with {@code BasicTransformerBlock}s:
 * {@code GroupNorm(eps 1e-6) → proj_in → [B, H·W, C] → blocks → back to NCHW → proj_out → + input}.
 * Each block: {@code x += attn1(LN1 x); x += attn2(LN2 x, text); x += FF(LN3 x)} with a GEGLU
 * feed-forward ({@code value · gelu(gate)}, exact erf GELU, inner width 4C).
 */
final class Transformer2D {
    private static final double NORM_EPS = 1e-6;
    private static final double LAYER_NORM_EPS = 1e-5;

    private final Layers.GroupNorm norm;
    private final Layers.Projection projIn;
    private final Block[] blocks;
    private final Layers.Projection projOut;
    private final boolean linearProjection;

    Transformer2D(Weights w, String prefix, long channels, long heads, long contextDim, long groups,
                  boolean linearProjection, boolean onlyCrossAttention, boolean upcast, int chunk) {
        long headSize = channels / heads;
        long inner = heads * headSize;
        this.linearProjection = linearProjection;
        this.norm = new Layers.GroupNorm(w, prefix + ".norm", channels, groups, NORM_EPS);
        this.projIn = new Layers.Projection(w, prefix + ".proj_in", channels, inner, linearProjection);
        this.blocks = new Block[] {new Block(w, prefix + ".transformer_blocks.0", inner, heads, headSize, contextDim,
                onlyCrossAttention, upcast, chunk)};
        this.projOut = new Layers.Projection(w, prefix + ".proj_out", inner, channels, linearProjection);
    }

    /**
     * @param x       [B, C, H, W]
     * @param context [B, 77, contextDim] text states
     * @return [B, C, H, W]
     */
    Tensor forward(Tensor x, Tensor context) {
        return Ops.scoped(() -> {
            long b = x.size(0);
            long c = x.size(1);
            long h = x.size(2);
            long wd = x.size(3);
            Tensor t = norm.forward(x);
            if (!linearProjection) {
                t = projIn.forward(t);
                long inner = t.size(1);
                t = t.permute(0, 2, 3, 1).reshape(b, h * wd, inner);
            } else {
                t = t.permute(0, 2, 3, 1).reshape(b, h * wd, c);
                t = projIn.forward(t);
            }
            for (Block block : blocks) {
                t = block.forward(t, context);
            }
            long inner = t.size(2);
            if (!linearProjection) {
                t = t.reshape(b, h, wd, inner).permute(0, 3, 1, 2).contiguous();
                t = projOut.forward(t);
            } else {
                t = projOut.forward(t);
                t = t.reshape(b, h, wd, c).permute(0, 3, 1, 2).contiguous();
            }
            return t.add(x);
        });
    }

    /** {@code BasicTransformerBlock} with layer norms, self- and cross-attention, GEGLU feed-forward. */
    static final class Block {
        private final Layers.LayerNorm norm1;
        private final CrossAttention attn1;
        private final Layers.LayerNorm norm2;
        private final CrossAttention attn2;
        private final Layers.LayerNorm norm3;
        private final Layers.Linear ffIn; // ff.net.0.proj: dim → 2·4·dim
        private final Layers.Linear ffOut; // ff.net.2: 4·dim → dim
        private final boolean onlyCrossAttention;
        private final long ffInner;

        Block(Weights w, String prefix, long dim, long heads, long headSize, long contextDim,
              boolean onlyCrossAttention, boolean upcast, int chunk) {
            this.onlyCrossAttention = onlyCrossAttention;
            this.norm1 = new Layers.LayerNorm(w, prefix + ".norm1", dim, LAYER_NORM_EPS);
            this.attn1 = CrossAttention.transformer(w, prefix + ".attn1", dim, onlyCrossAttention ? contextDim : dim,
                    heads, headSize, upcast, chunk);
            this.norm2 = new Layers.LayerNorm(w, prefix + ".norm2", dim, LAYER_NORM_EPS);
            this.attn2 = CrossAttention.transformer(w, prefix + ".attn2", dim, contextDim, heads, headSize, upcast,
                    chunk);
            this.norm3 = new Layers.LayerNorm(w, prefix + ".norm3", dim, LAYER_NORM_EPS);
            this.ffInner = 4 * dim;
            this.ffIn = new Layers.Linear(w, prefix + ".ff.net.0.proj", dim, 2 * ffInner, true);
            this.ffOut = new Layers.Linear(w, prefix + ".ff.net.2", ffInner, dim, true);
        }

        /** [B, N, dim] → [B, N, dim]. */
        Tensor forward(Tensor x, Tensor context) {
            return Ops.scoped(() -> {
                Tensor h = x.add(attn1.forward(norm1.forward(x), onlyCrossAttention ? context : null));
                h = h.add(attn2.forward(norm2.forward(h), context));
                return h.add(feedForward(norm3.forward(h)));
            });
        }

        private Tensor feedForward(Tensor x) {
            return Ops.scoped(() -> {
                Tensor p = ffIn.forward(x); // [B, N, 2·inner]
                Tensor value = p.narrow(2, 0, ffInner);
                Tensor gate = p.narrow(2, ffInner, ffInner);
                return ffOut.forward(value.mul(Ops.gelu(gate)));
            });
        }
    }
}
