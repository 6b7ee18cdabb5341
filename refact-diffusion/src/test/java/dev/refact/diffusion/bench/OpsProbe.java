package dev.refact.diffusion.bench;

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
 * Times single libtorch ops at SD 1.x 512×512 sizes (diagnostics for the UNet benchmark): conv,
 * linear, the pieces of explicit attention, and {@code scaled_dot_product_attention} for the
 * 4096-token self-attention. Run: {@code OpsProbe} (all), {@code OpsProbe x} (skip SDPA),
 * {@code OpsProbe x y} (stop after the attention pieces).
 */
public final class OpsProbe {
    private OpsProbe() {
    }

    public static void main(String[] args) {
        TorchRuntime.ensureLoaded();
        System.out.println(TorchRuntime.describe()
                + " " + torch.show_config().getString().replace('\n', ' '));
        try (PointerScope s = new PointerScope()) {
            var o = Tensors.options(ScalarType.Float, Tensors.cpu());
            Tensor x = torch.randn(new long[] {2, 320, 64, 64}, o);
            Tensor w = torch.randn(new long[] {320, 320, 3, 3}, o);
            Tensor b = torch.randn(new long[] {320}, o);
            time("conv3x3 320 64x64 b2", () -> torch.conv2d(x, w, new TensorOptional(b), new long[] {1, 1},
                    new long[] {1, 1}, new long[] {1, 1}, 1));
            Tensor a = torch.randn(new long[] {8192, 320}, o);
            Tensor m = torch.randn(new long[] {2560, 320}, o);
            time("linear 8192x320 -> 2560", () -> torch.linear(a, m));
            Tensor q = torch.randn(new long[] {2, 8, 4096, 40}, o);
            if (args.length == 0) time("sdpa 2x8x4096x4096 d40", () -> torch.scaled_dot_product_attention(q, q, q, new TensorOptional(), 0.0,
                    false, new DoubleOptional(), false));
            Tensor q3 = q.reshape(16, 4096, 40);
            Tensor kt = q3.transpose(1, 2).contiguous();
            Tensor q1 = q3.narrow(1, 0, 1024).contiguous();
            time("bmm scores 16x1024x4096 k40", () -> torch.bmm(q1, kt));
            Tensor sc0 = torch.bmm(q1, kt);
            time("softmax 16x1024x4096", () -> torch.softmax(sc0, -1));
            time("bmm PV 16x1024x4096 x 40", () -> torch.bmm(sc0, q3));
            time("matmul 2D 16384x40 x 40x4096", () -> torch.matmul(q3.reshape(65536, 40).narrow(0, 0, 16384), kt.select(0, 0)));
            if (args.length > 1) return;
            time("explicit attn chunk 1024", () -> {
                org.bytedeco.pytorch.TensorVector parts = new org.bytedeco.pytorch.TensorVector();
                for (int c = 0; c < 4; c++) {
                    Tensor qc = q3.narrow(1, c * 1024, 1024);
                    Tensor sc = torch.bmm(qc, q3.transpose(1, 2)).mul(new org.bytedeco.pytorch.Scalar(0.158));
                    parts.push_back(torch.bmm(torch.softmax(sc, -1), q3));
                }
                return torch.cat(parts, 1);
            });
            Tensor qp = torch.randn(new long[] {2, 4096, 8, 40}, o).permute(0, 2, 1, 3);
            if (args.length == 0) time("sdpa permuted", () -> torch.scaled_dot_product_attention(qp, qp, qp, new TensorOptional(), 0.0,
                    false, new DoubleOptional(), false));
            time("group_norm", () -> torch.group_norm(x, 32, new TensorOptional(b), new TensorOptional(b), 1e-5, false));
        }
    }

    private static void time(String what, java.util.function.Supplier<Tensor> f) {
        for (int i = 0; i < 3; i++) {
            long t = System.nanoTime();
            try (PointerScope s = new PointerScope()) {
                f.get().sum().item_float();
            }
            System.out.printf(Locale.ROOT, "%-28s %.3f s%n", what, (System.nanoTime() - t) / 1e9);
        }
    }
}
