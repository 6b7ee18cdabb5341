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
 * <p>Holds references to tensors owned by a {@link ParameterStore}; it owns nothing itself. The q/k/v
 * projections are fused into one [3d,d] weight at construction (their checkpoint names stay views of it). All
 * methods create temporaries in the caller's {@code PointerScope}.
 */
final class ClipEncoderLayer {
    private final Tensor ln1W;
    private final Tensor ln1B;
    /** q, k and v projections fused row-wise: weight [3d,d], bias [3d] (the named q/k/v tensors are views). */
    private final Tensor qkvW;
    private final Tensor qkvB;
    /** The k and v rows of {@link #qkvW} / {@link #qkvB}: [2d,d] and [2d] views. */
    private final Tensor kvW;
    private final Tensor kvB;
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
        String a = prefix + "self_attn.";
        Tensor qW = p.require(a + "q_proj.weight", width, width);
        Tensor qB = p.require(a + "q_proj.bias", width);
        Tensor kW = p.require(a + "k_proj.weight", width, width);
        Tensor kB = p.require(a + "k_proj.bias", width);
        Tensor vW = p.require(a + "v_proj.weight", width, width);
        Tensor vB = p.require(a + "v_proj.bias", width);
        if (qW != null && qB != null && kW != null && kB != null && vW != null && vB != null) {
            // One [3d,d] GEMM instead of three; q/k/v stay addressable by their names as views of it.
            qkvW = p.fuseRows(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight");
            qkvB = p.fuseRows(a + "q_proj.bias", a + "k_proj.bias", a + "v_proj.bias");
        } else {
            qkvW = null; // a missing tensor is reported by ParameterStore.checkComplete
            qkvB = null;
        }
        kvW = qkvW == null ? null : p.ownedRows(qkvW, width, 2L * width);
        kvB = qkvB == null ? null : p.ownedRows(qkvB, width, 2L * width);
        oW = p.require(prefix + "self_attn.out_proj.weight", width, width);
        oB = p.require(prefix + "self_attn.out_proj.bias", width);
        ln2W = p.require(prefix + "layer_norm2.weight", width);
        ln2B = p.require(prefix + "layer_norm2.bias", width);
        fc1W = p.require(prefix + "mlp.fc1.weight", intermediate, width);
        fc1B = p.require(prefix + "mlp.fc1.bias", intermediate);
        fc2W = p.require(prefix + "mlp.fc2.weight", width, intermediate);
        fc2B = p.require(prefix + "mlp.fc2.bias", width);
    }

    /** Full layer: x [b,n,d] → [b,n,d]. Differentiable (the in-place adds act on fresh GEMM outputs). */
    Tensor forward(Tensor x) {
        Tensor h = attentionResidual(x);
        return addInPlace(mlpOutput(mlpKey(h)), h);
    }

    /** {@code x + out_proj(attn(ln1(x)))}: the residual stream just before the MLP, [b,n,d] (a new tensor). */
    Tensor attentionResidual(Tensor x) {
        return addInPlace(attention(x), x);
    }

    /** {@code out_proj(attn(ln1(x)))}, [b,n,d]. */
    Tensor attention(Tensor x) {
        long b = x.size(0);
        long n = x.size(1);
        Tensor[] qkv = projectQkv(layerNorm(x, ln1W, ln1B), b, n);
        Tensor a = torch.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], new TensorOptional(), 0.0, causal,
                new DoubleOptional(), false); // [b,h,n,hd]
        return torch.linear(a.transpose(1, 2).reshape(b, n, width), oW, new TensorOptional(oB));
    }

    /**
     * q, k, v [b,h,n,hd] each from the LayerNorm output {@code ln} [b,n,d] with one fused GEMM: views of its
     * [b,n,3,h,hd] result, no copies.
     */
    private Tensor[] projectQkv(Tensor ln, long b, long n) {
        int hd = width / heads;
        Tensor qkv = torch.linear(ln, qkvW, new TensorOptional(qkvB)).view(b, n, 3, heads, hd)
                .permute(2, 0, 3, 1, 4); // [3,b,h,n,hd]
        return new Tensor[] {qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)};
    }

    /**
     * Keys and values of the attention for {@code x} [b,s,d], as [b,h,s,hd] each (what later queries attend to).
     */
    Tensor[] keysValues(Tensor x) {
        long b = x.size(0);
        long s = x.size(1);
        int hd = width / heads;
        Tensor ln = layerNorm(x, ln1W, ln1B);
        Tensor kv = torch.linear(ln, kvW, new TensorOptional(kvB)).view(b, s, 2, heads, hd).permute(2, 0, 3, 1, 4);
        return new Tensor[] {kv.select(0, 0), kv.select(0, 1)};
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
        Tensor[] qkv = projectQkv(layerNorm(x, ln1W, ln1B), b, m);
        Tensor kk = torch.cat(new org.bytedeco.pytorch.TensorVector(prefixK, qkv[1]), 2);
        Tensor vv = torch.cat(new org.bytedeco.pytorch.TensorVector(prefixV, qkv[2]), 2);
        Tensor a = torch.scaled_dot_product_attention(qkv[0], kk, vv, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false);
        Tensor h = addInPlace(torch.linear(a.transpose(1, 2).reshape(b, m, width), oW, new TensorOptional(oB)), x);
        return addInPlace(mlpOutput(mlpKey(h)), h);
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
            Tensor gate = f.mul(new Scalar(1.702));
            gate.sigmoid_(); // in place on a fresh tensor: autograd-safe (sigmoid's backward uses its output)
            if (org.bytedeco.pytorch.GradMode.is_enabled()) {
                return f.mul(gate);
            }
            f.mul_(gate);
            return f;
        }
        if (org.bytedeco.pytorch.GradMode.is_enabled()) {
            return torch.gelu(f);
        }
        torch.gelu_(f);
        return f;
    }

    /** {@code fc2(key)} including the bias, [b,n,d]. */
    Tensor mlpOutput(Tensor key) {
        return torch.linear(key, fc2W, new TensorOptional(fc2B));
    }

    /**
     * {@code y += x} in place, returning {@code y} itself: the Java object an in-place op returns is a non-owning
     * alias of {@code y}'s native handle and must never be kept or retained. {@code y} must be a fresh tensor
     * (a GEMM output), which keeps this autograd-safe.
     */
    private static Tensor addInPlace(Tensor y, Tensor x) {
        y.add_(x);
        return y;
    }

    private Tensor layerNorm(Tensor x, Tensor w, Tensor bias) {
        return torch.layer_norm(x, new long[] {width}, new TensorOptional(w), new TensorOptional(bias), eps, false);
    }
}
