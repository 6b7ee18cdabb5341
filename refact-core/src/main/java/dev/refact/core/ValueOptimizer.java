package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.SuffixCache;
import dev.refact.clip.torch.Tensors;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Step 2 of ReFACT: the contrastive search for v* = t₀ + δ.
 *
 * <p>δ [d] starts at zero and is added to layer L's MLP output at each rewriting prompt's last subject
 * token. Each prompt's representation (projected or pooled end-token embedding) is scored against the
 * candidates [target, source, N contrastive captions] (encoded once by the clean model) with logits
 * {@code −‖e − c‖₂} or {@code 100·cos(e, c)}; the loss is {@code −mean_j log p_j(target) + wd·‖δ‖/‖t₀‖²}.
 * Adam (β = 0.9, 0.999, ε = 1e-8, PyTorch's update formula) runs at most {@code maxSteps} steps; before each
 * step the search stops when mean p(target) exceeds the threshold; after each step ‖δ‖ is clamped to
 * {@code clampFactor·‖t₀‖}.
 *
 * <p>Only the work that changes is repeated: the layer-L MLP output of the clean model is computed once
 * (everything before it is unchanged by δ), prompts are cut after their end token, and each step runs only
 * layers L+1..end on the positions from the earliest subject-last token on, attending to cached clean keys and
 * values of the positions before it (causal attention: those never change).
 */
final class ValueOptimizer {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPS = 1e-8;

    private ValueOptimizer() {
    }

    /**
     * The outcome. Owns {@link #delta()} [d] (model dtype, model device).
     */
    record Search(Tensor delta, int steps, StopReason stopReason, double finalTargetProbability,
                  double[] losses, double[] targetProbabilities) implements AutoCloseable {
        @Override
        public void close() {
            delta.close();
        }
    }

    /**
     * Runs the search.
     *
     * @param batch      the rewriting prompts (bare subject first) with their last subject positions
     * @param trace      the clean model's layer-L MLP trace of {@code batch}
     * @param t0         [d] clean MLP output at the bare prompt's last subject token
     * @param candidates [m,p] clean representations, target first, source second
     */
    static Search run(ClipTextModel model, Hyperparameters hp, PromptBatch batch, MlpTrace trace, Tensor t0,
                      Tensor candidates, EditRequest request, ProgressListener listener) {
        int layer = hp.layer();
        boolean projected = hp.representation() == Representation.PROJECTED;
        int b = batch.size();
        int n = batch.length();
        int d = model.config().hiddenSize();
        // Positions before the earliest subject-last token never change: only rows start.. are recomputed.
        int start = n;
        for (int j = 0; j < b; j++) {
            start = (int) Math.min(start, batch.subjectLast(j));
        }
        int m = n - start;
        float[] maskData = new float[b * m];
        for (int j = 0; j < b; j++) {
            maskData[j * m + (int) batch.subjectLast(j) - start] = 1f;
        }
        List<Double> losses = new ArrayList<>();
        List<Double> probs = new ArrayList<>();
        double t0Norm;
        try (NoGradGuard ng = new NoGradGuard()) {
            t0Norm = t0.norm().item_double();
        }
        double maxNorm = hp.clampFactor() * t0Norm;
        double wdScale = hp.weightDecay() / (t0Norm * t0Norm);

        Tensor mask = null;
        Tensor base = null;
        Tensor ids = null;
        Tensor delta = null;
        Tensor adamM = null;
        Tensor adamV = null;
        SuffixCache cache = null;
        Tensor clean = null;
        try {
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                mask = Tensors.floats(maskData, model.device(), b, m, 1).to(model.dtype()).retainReference();
                Tensor c = trace.residual().add(trace.output()).detach();               // clean layer-L output
                clean = c.retainReference();
                base = c.narrow(1, start, m).contiguous().retainReference();
                ids = batch.ids().narrow(1, start, m).contiguous().retainReference();
                delta = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device())).retainReference();
                adamM = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device())).retainReference();
                adamV = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device())).retainReference();
            }
            // handed to the caller's scope (or to us); it must outlive the scope above, and is closed in finally
            cache = model.suffixCache(layer, clean, start);
            delta.set_requires_grad(true);
            StopReason reason = StopReason.STEP_CAP;
            double lastP = Double.NaN;
            int steps = 0;
            for (int step = 0; step <= hp.maxSteps(); step++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor logp = logProbabilities(model, hp, cache, ids, base, mask, delta, candidates, projected);
                    Tensor targetLogp = logp.select(1, 0);                      // [b]
                    Tensor nll = targetLogp.mean().neg();
                    Tensor loss = nll.add(delta.norm().mul(new Scalar(wdScale)));
                    double p = targetLogp.detach().exp().mean().item_double();
                    double l = loss.item_double();
                    lastP = p;
                    if (!Double.isFinite(l)) {
                        throw new IllegalStateException("v* search diverged: loss is " + l + " at step " + step);
                    }
                    losses.add(l);
                    probs.add(p);
                    listener.step(request, step, l, p);
                    if (p > hp.probabilityThreshold()) {
                        reason = StopReason.CONVERGED;
                        break;
                    }
                    if (step == hp.maxSteps()) {
                        break; // the last forward only measures
                    }
                    loss.backward();
                    adamStep(delta, adamM, adamV, step + 1, hp.learningRate());
                    steps++;
                    clamp(delta, maxNorm);
                }
            }
            Tensor out;
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                out = delta.detach().clone().retainReference();
            }
            return Tensors.handOffOwner(new Search(out, steps, reason, lastP, toArray(losses), toArray(probs)));
        } finally {
            for (Tensor t : new Tensor[] {mask, clean, base, ids, delta, adamM, adamV}) {
                if (t != null) {
                    t.close();
                }
            }
            if (cache != null) {
                cache.close();
            }
        }
    }

    /**
     * log p over candidates for every rewriting prompt with δ added: [b,c]. {@code base}, {@code mask} and
     * {@code suffixIds} cover positions {@code cache.start()..} only.
     */
    static Tensor logProbabilities(ClipTextModel model, Hyperparameters hp, SuffixCache cache, Tensor suffixIds,
                                   Tensor base, Tensor mask, Tensor delta, Tensor candidates, boolean projected) {
        Tensor x = base.add(mask.mul(delta));                               // [b,m,d]
        Tensor last = model.forwardSuffix(cache, x);                       // [b,m,d]
        Tensor pooled = model.pool(last, suffixIds);                       // [b,d] (the end token lies in the suffix)
        Tensor e = model.represent(pooled, projected);                     // [b,p]
        Tensor logits;
        if (hp.similarity() == Similarity.L2) {
            Tensor diff = e.unsqueeze(1).sub(candidates.unsqueeze(0));      // [b,m,p]
            logits = diff.mul(diff).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional())
                    .add(new Scalar(1e-12)).sqrt().neg();                    // −‖e − c‖₂ (ε keeps the gradient finite at 0)
        } else {
            Tensor en = torch.normalize(e, normOpts());
            Tensor cn = torch.normalize(candidates, normOpts());
            logits = en.matmul(cn.t()).mul(new Scalar(100.0));
        }
        return torch.log_softmax(logits, 1);
    }

    /** PyTorch's single-tensor Adam update (no weight decay, no amsgrad), in place, without autograd. */
    private static void adamStep(Tensor param, Tensor m, Tensor v, int t, double lr) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor g = param.grad();
            m.lerp_(g, new Scalar(1 - BETA1));
            v.mul_(new Scalar(BETA2)).addcmul_(g, g, new Scalar(1 - BETA2));
            double bc1 = 1 - Math.pow(BETA1, t);
            double bc2 = 1 - Math.pow(BETA2, t);
            Tensor denom = v.sqrt().div(new Scalar(Math.sqrt(bc2))).add(new Scalar(EPS));
            param.addcdiv_(m, denom, new Scalar(-lr / bc1));
            g.zero_();
        }
    }

    /** ‖δ‖ ≤ maxNorm, by rescaling in place (ROME's clamp). */
    private static void clamp(Tensor delta, double maxNorm) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            double norm = delta.norm().item_double();
            if (norm > maxNorm) {
                delta.mul_(new Scalar(maxNorm / norm));
            }
        }
    }

    private static double[] toArray(List<Double> list) {
        return list.stream().mapToDouble(Double::doubleValue).toArray();
    }
    private static org.bytedeco.pytorch.NormalizeFuncOptions normOpts() { // LOCAL STUB FIX (h-stats)
        org.bytedeco.pytorch.NormalizeFuncOptions o = new org.bytedeco.pytorch.NormalizeFuncOptions();
        o.dim().put(1L);
        return o;
    }
}
