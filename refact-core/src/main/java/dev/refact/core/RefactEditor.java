package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.core.stats.CovarianceStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The ReFACT editor: key → value → update, each step in its own class ({@link RankOneUpdate},
 * {@link ValueOptimizer}); this class orchestrates, times and records provenance.
 */
final class RefactEditor implements Editor {
    private final Hyperparameters hp;
    private final CovarianceStats stats;
    private final ClipTokenizer tokenizer;
    private final ProgressListener listener;

    RefactEditor(Hyperparameters hp, CovarianceStats stats, ClipTokenizer tokenizer, ProgressListener listener) {
        this.hp = hp;
        this.stats = stats;
        this.tokenizer = tokenizer;
        this.listener = listener;
    }

    @Override
    public Hyperparameters hyperparameters() {
        return hp;
    }

    @Override
    public List<EditResult> edit(ClipTextModel model, List<EditRequest> requests) {
        List<EditResult> done = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            try {
                done.add(edit(model, requests.get(i)));
                listener.edited(requests.get(i), i, requests.size());
            } catch (RuntimeException e) {
                for (int j = done.size() - 1; j >= 0; j--) {
                    done.get(j).undo();
                }
                String msg = "edit " + i + " of " + requests.size() + " (" + requests.get(i).prompt() + " → "
                        + requests.get(i).target() + ") failed; the " + done.size()
                        + " edit(s) made before it were undone: " + e.getMessage();
                throw e instanceof IllegalArgumentException ? new IllegalArgumentException(msg, e)
                        : new IllegalStateException(msg, e);
            }
        }
        return done;
    }

    @Override
    public EditResult edit(ClipTextModel model, EditRequest request) {
        TorchRuntime.ensureLoaded();
        checkFits(model, request);
        Map<String, Duration> timings = new LinkedHashMap<>();
        int layer = hp.layer();
        String subject = request.subject();
        List<String> prompts = new ArrayList<>();
        prompts.add(subject);                                     // bare subject first: t₀, k_b, v_b
        for (String t : hp.templates()) {
            prompts.add(ContextTemplates.fill(t, subject));
        }
        String fingerprint = model.fingerprint();
        listener.phase(request, "keys");
        long t = System.nanoTime();
        // Tensors returned by model/batch methods are owned here (closed by try); tensors made by operations in
        // this method belong to the scope.
        try (PointerScope scope = new PointerScope();
             PromptBatch batch = PromptBatch.of(tokenizer, model, prompts, subject);
             PromptBatch candidateBatch = PromptBatch.of(tokenizer, model, candidateTexts(request), null);
             MlpTrace trace = model.traceMlp(batch.ids(), layer);
             Tensor candidates = encodeCandidates(model, candidateBatch)) {
            // ---- Step 1: keys
            Tensor keys = gather(trace.key(), batch);             // [b,i]
            Tensor outs = gather(trace.output(), batch);          // [b,d]
            Tensor kBare = keys.select(0, 0);                      // [i]
            Tensor vBare = outs.select(0, 0);                      // [d] = t₀
            Tensor kMean;
            try (NoGradGuard ng = new NoGradGuard()) {
                kMean = keys.narrow(0, 1, batch.size() - 1).to(torch.ScalarType.Double)
                        .mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            }
            timings.put("keys", elapsed(t));

            // ---- C⁻¹k̄ (the factorisation is cached in the statistics)
            listener.phase(request, "solve");
            t = System.nanoTime();
            stats.solve(kMean).close();
            timings.put("solve", elapsed(t));

            // ---- Step 2: v*
            listener.phase(request, "value");
            t = System.nanoTime();
            try (ValueOptimizer.Search search = ValueOptimizer.run(model, hp, batch, trace, vBare, candidates, request,
                    listener)) {
                EditChecks.searchMoved(search.delta(), search.steps(), search.stopReason(), search.losses(), request, hp);
                Tensor vStar = vBare.add(search.delta());
                timings.put("value", elapsed(t));

                // ---- Step 3: W += r uᵀ
                listener.phase(request, "update");
                t = System.nanoTime();
                String changeId = changeId(fingerprint, request);
                String weightName = ClipTextModel.fc2WeightName(layer);
                float[] u;
                float[] r;
                try (RankOneUpdate.Factors f = RankOneUpdate.compute(stats, kMean, kBare, vBare, vStar)) {
                    Tensor u32 = f.u().to(model.dtype());
                    Tensor r32 = f.r().to(model.dtype());
                    EditChecks.finiteUpdate(u32, r32, request);
                    model.applyRankOneUpdate(weightName, r32, u32, changeId);
                    EditChecks.encoderStaysFinite(model, changeId);
                    u = Tensors.toFloats(u32);
                    r = Tensors.toFloats(r32);
                }
                timings.put("update", elapsed(t));
                double deltaNorm;
                double t0Norm;
                try (NoGradGuard ng = new NoGradGuard()) {
                    deltaNorm = search.delta().norm().item_double();
                    t0Norm = vBare.norm().item_double();
                }
                EditProvenance provenance = new EditProvenance(fingerprint, model.source(), stats.id(),
                        EditProvenance.currentLibraryVersion(), TorchRuntime.describe(), Instant.now().toString());
                return new EditResult(request, hp, changeId, weightName, u, r, Tensors.toFloats(vStar),
                        Tensors.toFloats(kMean), search.steps(), search.stopReason(), search.finalTargetProbability(),
                        search.losses(), search.targetProbabilities(), deltaNorm, t0Norm, timings, provenance, model);
            }
        }
    }

    private void checkFits(ClipTextModel model, EditRequest request) {
        int layers = model.config().numHiddenLayers();
        if (hp.layer() >= layers) {
            throw new IllegalArgumentException("layer " + hp.layer() + " does not exist: the model has " + layers
                    + " layers (0.." + (layers - 1) + ")");
        }
        if (stats.dim() != model.config().intermediateSize()) {
            throw new IllegalArgumentException("statistics are " + stats.dim() + "×" + stats.dim()
                    + " but the model's MLP width is " + model.config().intermediateSize());
        }
        int ctx = model.config().maxPositionEmbeddings();
        for (String text : new String[] {request.prompt(), request.source(), request.target()}) {
            int n = tokenizer.encode(text).length + 2;
            if (n > ctx) {
                throw new IllegalArgumentException("\"" + text + "\" has " + n + " tokens with start and end; the "
                        + "text encoder takes at most " + ctx);
            }
        }
    }

    private List<String> candidateTexts(EditRequest request) {
        List<String> c = new ArrayList<>();
        c.add(request.target());
        c.add(request.source());
        c.addAll(hp.contrastivePrompts());
        return c;
    }

    /** Clean representations of [target, source, contrastive...]: [m,p], no gradient. */
    private Tensor encodeCandidates(ClipTextModel model, PromptBatch batch) {
        boolean projected = hp.representation() == Representation.PROJECTED;
        try (TextEncoding enc = model.encode(batch.ids()); NoGradGuard ng = new NoGradGuard()) {
            return model.represent(enc.pooled(), projected);
        }
    }

    /** Rows of x [b,n,w] at each prompt's last subject position: [b,w]. */
    private static Tensor gather(Tensor x, PromptBatch batch) {
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

    private String changeId(String fingerprint, EditRequest request) {
        String key = fingerprint + "\n" + request + "\n" + hp.toJson() + "\n" + stats.id();
        return "edit-" + dev.refact.clip.io.Sha256.hex(key).substring(0, 16);
    }

    private static Duration elapsed(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
