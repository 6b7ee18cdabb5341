package dev.refact.clip.torch;

import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Non-finite results are errors: {@link #require(Tensor, String)} checks a stage's output (text encoder, UNet
 * step, VAE decode, classifier) and fails naming the stage, so that NaN or ±Inf is never written as a result.
 */
public final class Finite {
    private Finite() {
    }

    /**
     * Checks that every element of {@code t} is finite.
     *
     * @param t     any floating-point tensor (not modified, not closed)
     * @param stage what produced it, e.g. {@code "text encoder"}, {@code "unet step 3"}, {@code "vae decode"}
     * @throws IllegalStateException {@code "<stage> produced non-finite values (n NaN, m ±Inf of k)"}
     */
    public static void require(Tensor t, String stage) {
        if (t == null) {
            return;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor x = t.detach();
            if (torch.isfinite(x).all().item_bool()) {
                return;
            }
            long nan = torch.isnan(x).sum().item_long();
            long inf = torch.isinf(x).sum().item_long();
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "%s produced non-finite values (%d NaN, %d ±Inf of %d); the result is refused", stage, nan, inf,
                    x.numel()));
        }
    }

    /**
     * Whether every element of {@code t} is finite.
     *
     * @param t any floating-point tensor, on any device (not modified, not closed)
     * @return true if it holds no NaN and no ±Inf (also for an empty tensor)
     */
    public static boolean all(Tensor t) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            return torch.isfinite(t.detach()).all().item_bool();
        }
    }
}
