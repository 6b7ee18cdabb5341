package dev.refact.diffusion;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers {@code CrossAttention}/{@code Attention} with its default processor: q from the
 * hidden states, k and v from the context (the hidden states themselves for self-attention),
 * heads as contiguous channel slices, {@code softmax(q kᵀ / sqrt(head_size)) v}, then
 * {@code to_out.0}.
 *
 * <p>Also used for the VAE mid-block {@code AttentionBlock} (one head, biases on q/k/v), whose
 * v0.14 names {@code query/key/value/proj_attn} and current names {@code to_q/to_k/to_v/to_out.0}
 * are both accepted.
 */
final class CrossAttention {
    private final Layers.Linear toQ;
    private final Layers.Linear toK;
    private final Layers.Linear toV;
    private final Layers.Linear toOut;
    private final long heads;
    private final long headSize;
    private final boolean upcast;
    private final int chunk;

    private CrossAttention(Layers.Linear q, Layers.Linear k, Layers.Linear v, Layers.Linear out, long heads,
                           long headSize, boolean upcast, int chunk) {
        this.toQ = q;
        this.toK = k;
        this.toV = v;
        this.toOut = out;
        this.heads = heads;
        this.headSize = headSize;
        this.upcast = upcast;
        this.chunk = chunk;
    }

    /** Transformer attention: to_q/to_k/to_v without bias, to_out.0 with bias. */
    static CrossAttention transformer(Weights w, String prefix, long queryDim, long contextDim, long heads,
                                      long headSize, boolean upcast, int chunk) {
        long inner = heads * headSize;
        return new CrossAttention(
                new Layers.Linear(w, prefix + ".to_q", queryDim, inner, false),
                new Layers.Linear(w, prefix + ".to_k", contextDim, inner, false),
                new Layers.Linear(w, prefix + ".to_v", contextDim, inner, false),
                new Layers.Linear(w, prefix + ".to_out.0", inner, queryDim, true),
                heads, headSize, upcast, chunk);
    }

    /** VAE single-head spatial attention with biases everywhere (old or new parameter names). */
    static CrossAttention vae(Weights w, String prefix, long channels, int chunk) {
        boolean old = w.has(prefix + ".query.weight");
        String q = old ? ".query" : ".to_q";
        String k = old ? ".key" : ".to_k";
        String v = old ? ".value" : ".to_v";
        String o = old ? ".proj_attn" : ".to_out.0";
        return new CrossAttention(
                new Layers.Linear(w, prefix + q, channels, channels, true),
                new Layers.Linear(w, prefix + k, channels, channels, true),
                new Layers.Linear(w, prefix + v, channels, channels, true),
                new Layers.Linear(w, prefix + o, channels, channels, true),
                1, channels, true, chunk);
    }

    /**
     * @param x       [B, N, queryDim]
     * @param context [B, M, contextDim], or {@code null} for self-attention
     * @return [B, N, queryDim]
     */
    Tensor forward(Tensor x, Tensor context) {
        return Ops.scoped(() -> {
            Tensor ctx = context == null ? x : context;
            long b = x.size(0);
            Tensor q = split(toQ.forward(x), b);
            Tensor k = split(toK.forward(ctx), b);
            Tensor v = split(toV.forward(ctx), b);
            ScalarType dtype = x.scalar_type().intern(); // JavaCPP returns non-canonical enum objects
            boolean up = upcast && dtype != ScalarType.Float;
            if (up) {
                q = q.to(ScalarType.Float);
                k = k.to(ScalarType.Float);
                v = v.to(ScalarType.Float);
            }
            Tensor o = Ops.attention(q, k, v, 1.0 / Math.sqrt(headSize), chunk); // [B·heads, N, d]
            if (up) {
                o = o.to(dtype);
            }
            o = o.reshape(b, heads, -1, headSize).permute(0, 2, 1, 3).reshape(b, -1, heads * headSize);
            return toOut.forward(o);
        });
    }

    /** [B, N, heads·d] → [B·heads, N, d] (contiguous). */
    private Tensor split(Tensor t, long b) {
        return t.reshape(b, -1, heads, headSize).permute(0, 2, 1, 3).reshape(b * heads, -1, headSize);
    }
}
