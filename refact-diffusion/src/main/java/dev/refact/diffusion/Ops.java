package dev.refact.diffusion;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The libtorch operations the diffusion models use, with the native argument objects
 * ({@code Scalar}, {@code TensorOptional}, ...) created in the caller's scope.
 *
 * <p>{@link #scoped(Supplier)} runs a block in its own {@link PointerScope} and hands its result to
 * the enclosing scope, so that a block's temporaries are freed as soon as the block returns (this
 * keeps the peak memory of one UNet call close to what eager PyTorch needs).
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are used for their scope, not referenced
final class Ops {
    private Ops() {
    }

    /**
     * Runs {@code body} in a fresh scope; the tensor it returns is attached to the enclosing scope
     * (or, when there is none, returned with one extra reference that the caller must close).
     */
    static Tensor scoped(Supplier<Tensor> body) {
        PointerScope outer = PointerScope.getInnerScope();
        try (PointerScope inner = new PointerScope()) {
            Tensor r = body.get();
            if (outer != null) {
                outer.attach(r);
            } else {
                r.retainReference();
            }
            return r;
        }
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor b, long stride, long padding) {
        return torch.conv2d(x, w, b == null ? new TensorOptional() : new TensorOptional(b),
                new long[] {stride, stride}, new long[] {padding, padding}, new long[] {1, 1}, 1);
    }

    static Tensor groupNorm(Tensor x, long groups, Tensor w, Tensor b, double eps) {
        return torch.group_norm(x, groups, new TensorOptional(w), new TensorOptional(b), eps, false);
    }

    static Tensor layerNorm(Tensor x, long dim, Tensor w, Tensor b, double eps) {
        return torch.layer_norm(x, new long[] {dim}, new TensorOptional(w), new TensorOptional(b), eps, false);
    }

    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return b == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(b));
    }

    static Tensor silu(Tensor x) {
        return torch.silu(x);
    }

    /** Exact (erf) GELU, as {@code torch.nn.functional.gelu} with its default {@code approximate='none'}. */
    static Tensor gelu(Tensor x) {
        return torch.gelu(x);
    }

    static Tensor cat(long dim, Tensor... parts) {
        return torch.cat(new TensorVector(parts), dim);
    }

    static Tensor mul(Tensor x, double s) {
        return x.mul(new Scalar(s));
    }

    static Tensor add(Tensor a, Tensor b) {
        return a.add(b);
    }

    /** Nearest-neighbour upsampling to an explicit size ({@code F.interpolate(mode='nearest')}). */
    static Tensor upsampleNearest(Tensor x, long height, long width) {
        return torch.upsample_nearest2d(x, new long[] {height, width}, new DoubleOptional(), new DoubleOptional());
    }

    /** Pads the last two dims by (left, right, top, bottom) with zeros. */
    static Tensor pad(Tensor x, long left, long right, long top, long bottom) {
        return torch.constant_pad_nd(x, new long[] {left, right, top, bottom}, new Scalar(0.0));
    }

    /** Use libtorch's fused {@code scaled_dot_product_attention} instead (system property {@code refact.sdpa=true}). */
    static final boolean USE_SDPA = Boolean.getBoolean("refact.sdpa");

    /**
     * Attention on head-split tensors, {@code softmax(q kᵀ · scale) v}, computed as diffusers v0.14
     * does: {@code baddbmm(empty, q, kᵀ, beta=0, alpha=scale) → softmax → bmm}, optionally over
     * chunks of queries ("sliced attention") so the score matrix never exceeds
     * [B·heads, chunk, M]. On this project's CPUs this measured faster than libtorch's fused CPU
     * kernel at 4096 tokens (docs/benchmarks.md); {@code -Drefact.sdpa=true} switches to the fused kernel.
     *
     * @param q [B·heads, N, d]
     * @param k [B·heads, M, d]
     * @param v [B·heads, M, d]
     * @param chunk queries per chunk ({@code 0}: all at once)
     * @return [B·heads, N, d]
     */
    static Tensor attention(Tensor q, Tensor k, Tensor v, double scale, int chunk) {
        if (USE_SDPA) {
            return Ops.attentionChunks(q, k, v, scale, chunk, true);
        }
        return Ops.attentionChunks(q, k, v, scale, chunk, false);
    }

    private static Tensor attentionChunks(Tensor q, Tensor k, Tensor v, double scale, int chunk, boolean fused) {
        long n = q.size(1);
        Tensor kt = fused ? k : k.transpose(1, 2).contiguous(); // [B·heads, d, M]
        if (chunk <= 0 || n <= chunk) {
            return fused ? sdpa(q, k, v, scale) : explicit(q, kt, v, scale);
        }
        TensorVector parts = new TensorVector();
        for (long start = 0; start < n; start += chunk) {
            long len = Math.min(chunk, n - start);
            Tensor qc = q.narrow(1, start, len);
            parts.push_back(fused ? sdpa(qc, k, v, scale) : explicit(qc, kt, v, scale));
        }
        return torch.cat(parts, 1);
    }

    private static Tensor explicit(Tensor q, Tensor kt, Tensor v, double scale) {
        return Ops.scoped(() -> {
            Tensor scores = torch.baddbmm(torch.empty(new long[] {q.size(0), q.size(1), kt.size(2)},
                    dev.refact.clip.torch.Tensors.options(q.scalar_type().intern(), q.device()),
                    new org.bytedeco.pytorch.MemoryFormatOptional()), q, kt, new Scalar(0.0),
                    new Scalar(scale));
            return torch.bmm(torch.softmax(scores, -1), v);
        });
    }

    private static Tensor sdpa(Tensor q, Tensor k, Tensor v, double scale) {
        return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false,
                new DoubleOptional(scale), false);
    }
}
