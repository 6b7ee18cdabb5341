package dev.refact.core;

import dev.refact.clip.MlpTrace;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.stats.CovarianceStats;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Step 1 of ReFACT (ROME's {@code compute_u}): the keys and the edit direction.
 *
 * <p>A prompt batch holds one group of {@code 1 + T} prompts per request: the bare subject first, then the T
 * context templates filled with the subject. For each group this class takes, at each prompt's last subject
 * token, the fc2 input (the key) and the fc2 output:
 * <pre>
 *   k_b  = key of the bare prompt                      [i]
 *   v_b  = fc2 output of the bare prompt (= W k_b + b)  [d]   (t₀ of the v* search)
 *   k̄    = mean of the T template keys, float64          [i]
 *   u    = C⁻¹k̄ / ‖C⁻¹k̄‖, float64                        [i]
 * </pre>
 * Tensors returned here belong to the caller's {@link org.bytedeco.javacpp.PointerScope}.
 */
final class KeyComputer {
    private KeyComputer() {
    }

    /**
     * The keys of every request in a batch.
     *
     * @param kBare one k_b [i] per request (model dtype)
     * @param vBare one v_b [d] per request (model dtype)
     * @param kMean one k̄ [i] per request (float64)
     */
    record Keys(List<Tensor> kBare, List<Tensor> vBare, List<Tensor> kMean) {
        int size() {
            return kBare.size();
        }
    }

    /**
     * Reads the keys of {@code batch.size() / groupSize} requests from a layer-L trace of the batch.
     *
     * @param groupSize prompts per request (1 + number of templates)
     */
    static Keys keys(MlpTrace trace, PromptBatch batch, int groupSize) {
        Tensor keys = gather(trace.key(), batch);             // [b,i]
        Tensor outs = gather(trace.output(), batch);          // [b,d]
        int n = batch.size() / groupSize;
        List<Tensor> kBare = new ArrayList<>(n);
        List<Tensor> vBare = new ArrayList<>(n);
        List<Tensor> kMean = new ArrayList<>(n);
        for (int q = 0; q < n; q++) {
            int first = q * groupSize;
            kBare.add(keys.select(0, first));
            vBare.add(outs.select(0, first));
            try (NoGradGuard ng = new NoGradGuard()) {
                kMean.add(keys.narrow(0, first + 1, groupSize - 1).to(torch.ScalarType.Double)
                        .mean(new long[] {0}, false, new ScalarTypeOptional()));
            }
        }
        return new Keys(kBare, vBare, kMean);
    }

    /**
     * u = C⁻¹k̄/‖C⁻¹k̄‖ [i] in float64 on the statistics' device.
     *
     * @throws IllegalStateException if C⁻¹k̄ is zero or not finite
     */
    static Tensor direction(CovarianceStats stats, Tensor kMean) {
        try (NoGradGuard ng = new NoGradGuard()) {
            Tensor x = stats.solve(kMean);                                 // [i] float64
            double norm = x.norm().item_double();
            if (!(norm > 0) || Double.isInfinite(norm)) {
                throw new IllegalStateException("C⁻¹k̄ has norm " + norm + ": the key is zero or C is degenerate");
            }
            return x.div(new Scalar(norm));
        }
    }

    /** Rows of x [b,n,w] at each prompt's last subject position: [b,w]. */
    static Tensor gather(Tensor x, PromptBatch batch) {
        long[] pos = batch.subjectLastPositions();
        long n = x.size(1);
        long[] flat = new long[pos.length];
        for (int j = 0; j < pos.length; j++) {
            flat[j] = j * n + pos[j];
        }
        try (NoGradGuard ng = new NoGradGuard(); Tensor index = Tensors.longs(flat, x.device(), flat.length)) {
            return x.reshape(-1, x.size(2)).index_select(0, index); // attached to the caller's scope
        }
    }
}
