package dev.refact.diffusion;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Benchmark main (not a test): the 4096-token self-attention of a 512×512 SD step ([2·8, 4096, 40])
 * with this port's explicit sliced attention vs libtorch's fused kernel, alternating, same process.
 */
final class AttentionProbe {
    private AttentionProbe() {
    }

    public static void main(String[] args) {
        TorchRuntime.ensureLoaded();
        int chunk = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        try (PointerScope s = new PointerScope()) {
            var o = Tensors.options(ScalarType.Float, Tensors.cpu());
            Tensor q = torch.randn(new long[] {16, 4096, 40}, o);
            for (int r = 0; r < 3; r++) {
                long t0 = System.nanoTime();
                try (PointerScope p = new PointerScope()) {
                    Ops.attention(q, q, q, 0.158, chunk).sum().item_float();
                }
                long t1 = System.nanoTime();
                try (PointerScope p = new PointerScope()) {
                    torch.scaled_dot_product_attention(q, q, q, new TensorOptional(), 0.0, false,
                            new DoubleOptional(0.158), false).sum().item_float();
                }
                long t2 = System.nanoTime();
                System.out.printf(Locale.ROOT, "explicit chunk %d: %.2f s   fused sdpa: %.2f s%n", chunk,
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            }
        }
    }
}
