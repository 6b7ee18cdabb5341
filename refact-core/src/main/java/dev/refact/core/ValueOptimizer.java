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
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Step 2 of ReFACT: the contrastive search for v* = t₀ + δ.
 *
 * <p>δ [d] starts at zero and is added to layer L's MLP output at each rewriting prompt's last subject
 * token. Each prompt's representation (projected or pooled end-token embedding) is scored against the
 * candidates [target, source, N contrastive captions] (encoded once by the clean model) with logits
 * {@code −‖e − c‖₂} or {@code 100·cos(e, c)}; the loss is {@code −mean_j log p_j(target) + wd·‖δ‖/‖t₀‖²}.
 * Adam (β = 0.9, 0.999, ε = 1e-8, PyTorch's update formula) runs at most {@link Hyperparameters#adamUpdateCap()}
 * steps; before each
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
     * Runs the search for one request.
     *
     * @param batch      the rewriting prompts (bare subject first) with their last subject positions
     * @param trace      the clean model's layer-L MLP trace of {@code batch}
     * @param t0         [d] clean MLP output at the bare prompt's last subject token
     * @param candidates [m,p] clean representations, target first, source second
     */
    static Search run(ClipTextModel model, Hyperparameters hp, PromptBatch batch, MlpTrace trace, Tensor t0,
                      Tensor candidates, EditRequest request, ProgressListener listener) {
        return run(model, hp, batch, batch.size(), trace, List.of(t0), List.of(candidates), List.of(request),
                listener).get(0);
    }

    /**
     * Runs the searches of n requests batched: one forward and one backward per step over the prompts of every
     * request still searching; each request has its own δ, Adam state, clamp, weight decay scale and early stop,
     * and leaves the batch when it stops. Rows of a batch never interact (attention stays within a prompt), so
     * each request's v* equals its own single search up to float rounding; for n = 1 the operations are exactly
     * those of a single search.
     *
     * @param batch      n groups of {@code groupSize} prompts (each group: bare subject first, then the templates)
     * @param trace      the clean model's layer-L MLP trace of {@code batch}
     * @param t0s        per request, [d] clean MLP output at the bare prompt's last subject token
     * @param candidates per request, [m,p] clean representations, target first, source second
     * @return one search per request, in order (the caller closes them)
     */
    static List<Search> run(ClipTextModel model, Hyperparameters hp, PromptBatch batch, int groupSize, MlpTrace trace,
                            List<Tensor> t0s, List<Tensor> candidates, List<EditRequest> requests,
                            ProgressListener listener) {
        int layer = hp.layer();
        boolean projected = hp.representation() == Representation.PROJECTED;
        int nReq = requests.size();
        int g = groupSize;
        int b = batch.size();
        if (b != nReq * g || t0s.size() != nReq || candidates.size() != nReq) {
            throw new IllegalArgumentException("batch of " + b + " prompts does not hold " + nReq + " groups of " + g);
        }
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
        List<List<Double>> losses = new ArrayList<>();
        List<List<Double>> probs = new ArrayList<>();
        double[] maxNorm = new double[nReq];
        double[] wdScale = new double[nReq];
        for (int q = 0; q < nReq; q++) {
            double t0Norm;
            try (NoGradGuard ng = new NoGradGuard()) {
                t0Norm = t0s.get(q).norm().item_double();
            }
            maxNorm[q] = hp.clampFactor() * t0Norm;
            wdScale[q] = hp.weightDecay() / (t0Norm * t0Norm);
            losses.add(new ArrayList<>());
            probs.add(new ArrayList<>());
        }
        int lastStep = hp.adamUpdateCap();

        Tensor mask = null;
        Tensor base = null;
        Tensor ids = null;
        Tensor[] delta = new Tensor[nReq];
        Tensor[] adamM = new Tensor[nReq];
        Tensor[] adamV = new Tensor[nReq];
        Tensor clean = null;
        SuffixCache cache = null;
        Active active = null;
        try {
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                mask = Tensors.floats(maskData, model.device(), b, m, 1).to(model.dtype()).retainReference();
                Tensor c = trace.residual().add(trace.output()).detach();               // clean layer-L output
                clean = c.retainReference();
                base = c.narrow(1, start, m).contiguous().retainReference();
                ids = batch.ids().narrow(1, start, m).contiguous().retainReference();
                for (int q = 0; q < nReq; q++) {
                    delta[q] = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device()))
                            .retainReference();
                    adamM[q] = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device()))
                            .retainReference();
                    adamV[q] = torch.zeros(new long[] {d}, Tensors.options(model.dtype(), model.device()))
                            .retainReference();
                }
            }
            // handed to the caller's scope (or to us); it must outlive the scope above, and is closed in finally
            cache = model.suffixCache(layer, clean, start);
            for (Tensor t : delta) {
                t.set_requires_grad(true);
            }
            StopReason[] reason = new StopReason[nReq];
            java.util.Arrays.fill(reason, StopReason.STEP_CAP);
            double[] lastP = new double[nReq];
            java.util.Arrays.fill(lastP, Double.NaN);
            int[] steps = new int[nReq];
            List<Integer> searching = new ArrayList<>();
            for (int q = 0; q < nReq; q++) {
                searching.add(q);
            }
            active = new Active(searching, mask, base, ids, cache, false);
            for (int step = 0; step <= lastStep && !searching.isEmpty(); step++) {
                if (active.requests.size() != searching.size()) {
                    Active next = Active.subset(searching, g, mask, base, ids, cache);
                    active.close();
                    active = next;
                }
                try (PointerScope scope = new PointerScope()) {
                    int a = searching.size();
                    Tensor x;
                    if (a == 1) {
                        x = active.base.add(active.mask.mul(delta[searching.get(0)]));              // [g,m,d]
                    } else {
                        TensorVector parts = new TensorVector();
                        for (int j = 0; j < a; j++) {
                            parts.push_back(active.base.narrow(0, (long) j * g, g)
                                    .add(active.mask.narrow(0, (long) j * g, g).mul(delta[searching.get(j)])));
                        }
                        x = torch.cat(parts, 0);                                                    // [a·g,m,d]
                    }
                    Tensor e = represent(model, active.cache, active.ids, x, projected);           // [a·g,p]
                    List<Integer> update = new ArrayList<>();
                    Tensor total = null;
                    for (int j = 0; j < a; j++) {
                        int q = searching.get(j);
                        Tensor eq = a == 1 ? e : e.narrow(0, (long) j * g, g);
                        Tensor logp = logProbabilities(hp, eq, candidates.get(q));
                        Tensor targetLogp = logp.select(1, 0);                      // [g]
                        Tensor nll = targetLogp.mean().neg();
                        Tensor loss = nll.add(delta[q].norm().mul(new Scalar(wdScale[q])));
                        double p = targetLogp.detach().exp().mean().item_double();
                        double l = loss.item_double();
                        lastP[q] = p;
                        if (!Double.isFinite(l)) {
                            throw new IllegalStateException("v* search diverged: loss is " + l + " at step " + step
                                    + (nReq > 1 ? " for request " + q + " (\"" + requests.get(q).prompt() + "\")" : ""));
                        }
                        losses.get(q).add(l);
                        probs.get(q).add(p);
                        listener.step(requests.get(q), step, l, p);
                        if (p > hp.probabilityThreshold()) {
                            reason[q] = StopReason.CONVERGED;
                            continue;
                        }
                        if (step == lastStep) {
                            continue; // the last forward only measures
                        }
                        update.add(q);
                        total = total == null ? loss : total.add(loss);
                    }
                    if (total != null) {
                        total.backward();
                        for (int q : update) {
                            adamStep(delta[q], adamM[q], adamV[q], step + 1, hp.learningRate());
                            steps[q]++;
                            clamp(delta[q], maxNorm[q]);
                        }
                    }
                    searching = update;
                }
            }
            List<Search> out = new ArrayList<>(nReq);
            try (NoGradGuard ng = new NoGradGuard()) {
                for (int q = 0; q < nReq; q++) {
                    out.add(new Search(delta[q].detach().clone(), steps[q], reason[q], lastP[q],
                            toArray(losses.get(q)), toArray(probs.get(q))));
                }
            }
            return out;
        } finally {
            if (active != null) {
                active.close();
            }
            for (Tensor t : new Tensor[] {mask, clean, base, ids}) {
                if (t != null) {
                    t.close();
                }
            }
            for (Tensor[] ts : new Tensor[][] {delta, adamM, adamV}) {
                for (Tensor t : ts) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
            if (cache != null) {
                cache.close();
            }
        }
    }

    /**
     * The rows of the batch that are still searching. When every request searches it views the full tensors (and
     * owns nothing); after a request leaves, it owns row subsets of them, cache included.
     */
    private record Active(List<Integer> requests, Tensor mask, Tensor base, Tensor ids, SuffixCache cache,
                          boolean owns) implements AutoCloseable {
        static Active subset(List<Integer> requests, int g, Tensor mask, Tensor base, Tensor ids, SuffixCache cache) {
            long[] rows = new long[requests.size() * g];
            for (int j = 0; j < requests.size(); j++) {
                for (int k = 0; k < g; k++) {
                    rows[j * g + k] = (long) requests.get(j) * g + k;
                }
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                Tensor idx = Tensors.longs(rows, base.device(), rows.length);
                List<Tensor> kv = new ArrayList<>();
                for (Tensor t : cache.tensors()) {
                    kv.add(t.index_select(0, idx).retainReference());
                }
                return new Active(List.copyOf(requests), mask.index_select(0, idx).retainReference(),
                        base.index_select(0, idx).retainReference(), ids.index_select(0, idx).retainReference(),
                        new SuffixCache(cache.layer(), cache.start(), kv), true);
            }
        }

        @Override
        public void close() {
            if (owns) {
                mask.close();
                base.close();
                ids.close();
                cache.close();
            }
        }
    }

    /**
     * Representations of the prompts with the perturbed layer output {@code x} [b,m,d] on the suffix rows:
     * [b,p]. {@code suffixIds} cover positions {@code cache.start()..} only.
     */
    static Tensor represent(ClipTextModel model, SuffixCache cache, Tensor suffixIds, Tensor x, boolean projected) {
        Tensor last = model.forwardSuffix(cache, x);                       // [b,m,d]
        Tensor pooled = model.pool(last, suffixIds);                       // [b,d] (the end token lies in the suffix)
        return model.represent(pooled, projected);                         // [b,p]
    }

    /** log p over candidates [m,p] for representations e [b,p]: [b,m]. */
    static Tensor logProbabilities(Hyperparameters hp, Tensor e, Tensor candidates) {
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

    /** L2 normalisation along dim 1 (rows), for cosine similarity. */
    private static org.bytedeco.pytorch.NormalizeFuncOptions normOpts() {
        org.bytedeco.pytorch.NormalizeFuncOptions o = new org.bytedeco.pytorch.NormalizeFuncOptions();
        o.dim().put(1L);
        return o;
    }
}
