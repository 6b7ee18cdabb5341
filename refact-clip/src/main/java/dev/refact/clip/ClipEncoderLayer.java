package dev.refact.clip;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * One pre-LN CLIP transformer layer (HF {@code CLIPEncoderLayer}), shared by the text tower
 * (causal) and the vision tower (no mask):
 * {@code h = x + out_proj(attn(ln1(x)))}, {@code key = act(fc1(ln2(h)))}, {@code y = h + fc2(key)}.
 *
 * <p>Holds references to tensors owned by a {@link ParameterStore}; it owns nothing itself. All
 * methods create temporaries in the caller's {@code PointerScope}.
 */
final class ClipEncoderLayer {
    private final Tensor ln1W;
    private final Tensor ln1B;
    private final Tensor qW;
    private final Tensor qB;
    private final Tensor kW;
    private final Tensor kB;
    private final Tensor vW;
    private final Tensor vB;
    private final Tensor oW;
    private final Tensor oB;
    private final Tensor ln2W;
    private final Tensor ln2B;
    private final Tensor fc1W;
    private final Tensor fc1B;
    private final Tensor fc2W;
    private final Tensor fc2B;
    private final int width;
    private final int heads;
    private final double eps;
    private final boolean quickGelu;
    private final boolean causal;

    ClipEncoderLayer(ParameterStore p, String prefix, int width, int heads, int intermediate, double eps,
                     String hiddenAct, boolean causal) {
        this.width = width;
        this.heads = heads;
        this.eps = eps;
        this.quickGelu = hiddenAct.equals("quick_gelu");
        this.causal = causal;
        ln1W = p.require(prefix + "layer_norm1.weight", width);
        ln1B = p.require(prefix + "layer_norm1.bias", width);
        qW = p.require(prefix + "self_attn.q_proj.weight", width, width);
        qB = p.require(prefix + "self_attn.q_proj.bias", width);
        kW = p.require(prefix + "self_attn.k_proj.weight", width, width);
        kB = p.require(prefix + "self_attn.k_proj.bias", width);
        vW = p.require(prefix + "self_attn.v_proj.weight", width, width);
        vB = p.require(prefix + "self_attn.v_proj.bias", width);
        oW = p.require(prefix + "self_attn.out_proj.weight", width, width);
        oB = p.require(prefix + "self_attn.out_proj.bias", width);
        ln2W = p.require(prefix + "layer_norm2.weight", width);
        ln2B = p.require(prefix + "layer_norm2.bias", width);
        fc1W = p.require(prefix + "mlp.fc1.weight", intermediate, width);
        fc1B = p.require(prefix + "mlp.fc1.bias", intermediate);
        fc2W = p.require(prefix + "mlp.fc2.weight", width, intermediate);
        fc2B = p.require(prefix + "mlp.fc2.bias", width);
    }

    /** Full layer: x [b,n,d] → [b,n,d]. */
    Tensor forward(Tensor x) {
        Tensor h = attentionResidual(x);
        return h.add(mlpOutput(mlpKey(h)));
    }

    /** {@code x + out_proj(attn(ln1(x)))}: the residual stream just before the MLP, [b,n,d]. */
    Tensor attentionResidual(Tensor x) {
        return x.add(attention(x));
    }

    /** {@code out_proj(attn(ln1(x)))}, [b,n,d]. */
    Tensor attention(Tensor x) {
        long b = x.size(0);
        long n = x.size(1);
        int hd = width / heads;
        Tensor ln = layerNorm(x, ln1W, ln1B);
        Tensor q = torch.linear(ln, qW, new TensorOptional(qB)).view(b, n, heads, hd).transpose(1, 2);
        Tensor k = torch.linear(ln, kW, new TensorOptional(kB)).view(b, n, heads, hd).transpose(1, 2);
        Tensor v = torch.linear(ln, vW, new TensorOptional(vB)).view(b, n, heads, hd).transpose(1, 2);
        Tensor a = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, causal,
                new DoubleOptional(), false); // [b,h,n,hd]
        Tensor merged = a.transpose(1, 2).reshape(b, n, width);
        return torch.linear(merged, oW, new TensorOptional(oB));
    }

    /**
     * Keys and values of the attention for {@code x} [b,s,d], as [b,h,s,hd] each (what later queries attend to).
     */
    Tensor[] keysValues(Tensor x) {
        long b = x.size(0);
        long s = x.size(1);
        int hd = width / heads;
        Tensor ln = layerNorm(x, ln1W, ln1B);
        Tensor k = torch.linear(ln, kW, new TensorOptional(kB)).view(b, s, heads, hd).transpose(1, 2);
        Tensor v = torch.linear(ln, vW, new TensorOptional(vB)).view(b, s, heads, hd).transpose(1, 2);
        return new Tensor[] {k, v};
    }

    /**
     * The layer on suffix rows {@code x} [b,m,d] whose first row sits at absolute position {@code s}, attending to
     * cached prefix keys/values [b,h,s,hd] and to the suffix causally. Equals rows s.. of {@link #forward} on the
     * whole sequence (positions before s are not recomputed). Requires a causal layer.
     *
     * @param mask [m, s+m] boolean, true where attention is allowed (see {@link #suffixMask})
     */
    Tensor forwardSuffix(Tensor x, Tensor prefixK, Tensor prefixV, Tensor mask) {
        long b = x.size(0);
        long m = x.size(1);
        int hd = width / heads;
        Tensor ln = layerNorm(x, ln1W, ln1B);
        Tensor q = torch.linear(ln, qW, new TensorOptional(qB)).view(b, m, heads, hd).transpose(1, 2);
        Tensor k = torch.linear(ln, kW, new TensorOptional(kB)).view(b, m, heads, hd).transpose(1, 2);
        Tensor v = torch.linear(ln, vW, new TensorOptional(vB)).view(b, m, heads, hd).transpose(1, 2);
        Tensor kk = torch.cat(new org.bytedeco.pytorch.TensorVector(prefixK, k), 2);
        Tensor vv = torch.cat(new org.bytedeco.pytorch.TensorVector(prefixV, v), 2);
        Tensor a = torch.scaled_dot_product_attention(q, kk, vv, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false);
        Tensor h = x.add(torch.linear(a.transpose(1, 2).reshape(b, m, width), oW, new TensorOptional(oB)));
        return h.add(mlpOutput(mlpKey(h)));
    }

    /** The boolean mask [m, s+m] for {@link #forwardSuffix}: row i (absolute s+i) may see columns ≤ s+i. */
    static Tensor suffixMask(long s, long m, org.bytedeco.pytorch.Device device) {
        Tensor ones = torch.ones(new long[] {m, s + m}, dev.refact.clip.torch.Tensors.options(torch.ScalarType.Bool,
                device));
        return ones.tril(s);
    }

    /** The fc2 input {@code act(fc1(ln2(h)))}: ReFACT's key, [b,n,intermediate]. */
    Tensor mlpKey(Tensor h) {
        Tensor f = torch.linear(layerNorm(h, ln2W, ln2B), fc1W, new TensorOptional(fc1B));
        if (quickGelu) {
            return f.mul(f.mul(new Scalar(1.702)).sigmoid());
        }
        return torch.gelu(f);
    }

    /** {@code fc2(key)} including the bias, [b,n,d]. */
    Tensor mlpOutput(Tensor key) {
        return torch.linear(key, fc2W, new TensorOptional(fc2B));
    }

    private Tensor layerNorm(Tensor x, Tensor w, Tensor bias) {
        return torch.layer_norm(x, new long[] {width}, new TensorOptional(w), new TensorOptional(bias), eps, false);
    }
}
