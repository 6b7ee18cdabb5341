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
 * The ReFACT editor (ROME's {@code rome_main}): key → value → update, each step in its own class
 * ({@link KeyComputer} = compute_u, {@link ValueOptimizer} = compute_v, {@link RankOneUpdate} and
 * {@link JointUpdate} = the closed form); this class orchestrates, checks conflicts, times and records provenance.
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
                throw rolledBack(done, i, requests, e);
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
            // ---- Step 1: keys (compute_u)
            KeyComputer.Keys keys = KeyComputer.keys(trace, batch, batch.size());
            Tensor kBare = keys.kBare().get(0);                    // [i]
            Tensor vBare = keys.vBare().get(0);                    // [d] = t₀
            Tensor kMean = keys.kMean().get(0);                    // [i] float64
            timings.put("keys", elapsed(t));

            // ---- u = C⁻¹k̄/‖C⁻¹k̄‖ (the factorisation is cached in the statistics), solved once
            listener.phase(request, "solve");
            t = System.nanoTime();
            Tensor direction = KeyComputer.direction(stats, kMean);                 // [i] float64
            timings.put("solve", elapsed(t));

            // ---- Step 2: v*
            listener.phase(request, "value");
            t = System.nanoTime();
            try (ValueOptimizer.Search search = ValueOptimizer.run(model, hp, batch, trace, vBare, candidates, request,
                    listener)) {
                // the search diverged or did not move: an error, before any weight change
                EditChecks.searchMoved(search.delta(), search.steps(), search.stopReason(), search.losses(), request, hp);
                Tensor vStar = vBare.add(search.delta());
                timings.put("value", elapsed(t));

                // ---- Step 3: W += r uᵀ
                listener.phase(request, "update");
                t = System.nanoTime();
                String changeId = changeId(fingerprint, request);
                String weightName = ClipTextModel.fc2WeightName(layer);
                float[][] ur = applyRankOne(model, weightName, direction, kBare, vBare, vStar, request, changeId);
                EditChecks.encoderStaysFinite(model, changeId);
                float[] u = ur[0];
                float[] r = ur[1];
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

    @Override
    public List<JointEditResult> editSequentially(ClipTextModel model, List<EditRequest> requests,
                                                  JointOptions options, boolean protect) {
        List<JointEditResult> done = new ArrayList<>();
        List<ProtectedKey> earlier = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            try {
                JointOptions o = protect ? options.protecting(earlier) : options;
                JointEditResult r = editJointly(model, List.of(requests.get(i)), o);
                done.add(r);
                earlier.addAll(r.protectedKeys());
                listener.edited(requests.get(i), i, requests.size());
            } catch (RuntimeException e) {
                throw rolledBack(done, i, requests, e);
            }
        }
        return done;
    }

    @Override
    public JointEditResult editJointly(ClipTextModel model, List<EditRequest> requests, JointOptions options) {
        return editJointly(model, requests, options, JOINT_CHUNK);
    }

    /** As {@link #editJointly(ClipTextModel, List, JointOptions)} with {@code chunk} requests per chunk (tests). */
    JointEditResult editJointly(ClipTextModel model, List<EditRequest> requests, JointOptions options, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        }
        TorchRuntime.ensureLoaded();
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("a joint edit needs at least one request");
        }
        int n = requests.size();
        for (int i = 0; i < n; i++) {
            try {
                checkFits(model, requests.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("request " + i + " (\"" + requests.get(i).prompt() + "\"): "
                        + e.getMessage(), e);
            }
        }
        List<ProtectedKey> protectedKeys = options.protectedKeys();
        int p = protectedKeys.size();
        int width = model.config().intermediateSize();
        for (ProtectedKey k : protectedKeys) {
            if (k.layer() != hp.layer() || k.u().length != width) {
                throw new IllegalArgumentException("protected edit " + k.changeId() + " is at layer " + k.layer()
                        + " with keys of width " + k.u().length + "; this editor edits layer " + hp.layer()
                        + " of width " + width);
            }
        }
        if (options.ridge() == 0) {
            checkSubjects(requests, protectedKeys);
        }
        // One request, exact, nothing protected: the single edit's arithmetic (bit for bit).
        boolean rankOne = n == 1 && p == 0 && options.ridge() == 0;
        Map<String, Duration> timings = new LinkedHashMap<>();
        int layer = hp.layer();
        int g = 1 + hp.templates().size();
        List<String> prompts = new ArrayList<>();
        List<String> subjects = new ArrayList<>();
        for (EditRequest request : requests) {
            String subject = request.subject();
            prompts.add(subject);                                 // bare subject first: t₀, k_b, v_b
            for (String t : hp.templates()) {
                prompts.add(ContextTemplates.fill(t, subject));
            }
            subjects.addAll(java.util.Collections.nCopies(g, subject));
        }
        String fingerprint = model.fingerprint();
        String weightName = ClipTextModel.fc2WeightName(layer);
        EditRequest first = requests.get(0);
        float[][] u = new float[n + p][];
        float[][] kBar = new float[n + p][];
        float[][] kBare = new float[n + p][];
        float[][] vStar = new float[n + p][];
        float[][] vBare = new float[n][];
        double[] kMean0 = null;                            // rank one: k̄ in float64 (KeyComputer's), for u at update
        for (int j = 0; j < p; j++) {
            ProtectedKey k = protectedKeys.get(j);
            u[n + j] = k.u();
            kBar[n + j] = k.kBar();
            kBare[n + j] = k.kBare();
        }
        ChunkOutcome[] searched = new ChunkOutcome[n];
        long[] nanos = new long[3];                                 // keys, solve, value
        double condition = 1;
        org.ejml.data.DMatrixRMaj system = null;
        // Keys and v* searches hold activations of every prompt of their requests (the layer-L MLP trace and the
        // autograd graph of the layers above): they run `chunk` requests at a time, so memory stays that of `chunk`
        // requests whatever n is (at n = 128 in one batch the full-size model peaked at 4.8 GiB). What crosses
        // chunks is plain arrays. n ≤ chunk is one chunk, with exactly the operations of an unchunked edit.
        for (int c0 = 0; c0 < n; c0 += chunk) {
            int c1 = Math.min(n, c0 + chunk);
            List<EditRequest> part = requests.subList(c0, c1);
            listener.phase(part.get(0), "keys");
            long t = System.nanoTime();
            List<Tensor> candidates = new ArrayList<>();
            List<ValueOptimizer.Search> searches = new ArrayList<>();
            try (PointerScope scope = new PointerScope();
                 PromptBatch batch = PromptBatch.ofSubjects(tokenizer, model, prompts.subList(c0 * g, c1 * g),
                         subjects.subList(c0 * g, c1 * g));
                 MlpTrace trace = model.traceMlp(batch.ids(), layer)) {
                // ---- Step 1: keys (compute_u) of the chunk's requests; protected rows bring their own
                KeyComputer.Keys keys = KeyComputer.keys(trace, batch, g);
                for (int i = c0; i < c1; i++) {
                    kBar[i] = Tensors.toFloats(keys.kMean().get(i - c0).to(model.dtype()));
                    kBare[i] = Tensors.toFloats(keys.kBare().get(i - c0));
                    vBare[i] = Tensors.toFloats(keys.vBare().get(i - c0));
                }
                if (rankOne) {
                    kMean0 = Tensors.toDoubles(keys.kMean().get(0));
                }
                nanos[0] += System.nanoTime() - t;
                listener.phase(part.get(0), "solve");
                t = System.nanoTime();
                if (!rankOne) {
                    for (int i = c0; i < c1; i++) {
                        u[i] = Tensors.toFloats(KeyComputer.direction(stats, keys.kMean().get(i - c0))
                                .to(model.dtype()));
                    }
                    // the system of every row known so far: conflicts are refused before any (further) search
                    system = JointUpdate.systemMatrix(known(u, c1, n, p), known(kBare, c1, n, p));
                    condition = JointUpdate.conditionNumber(system);
                    if (options.ridge() == 0 && !(condition <= options.maxCondition())) {
                        List<Integer> rows = new ArrayList<>();
                        for (int row : JointUpdate.weakestRows(system)) {
                            rows.add(row < c1 ? row : row - c1 + n);      // back to request / protected numbering
                        }
                        throw new EditConflictException("refused before any weight change: " + describeRows(rows,
                                requests, protectedKeys) + " cannot hold together: their keys are nearly linearly "
                                + "dependent (the " + (c1 + p) + "×" + (c1 + p) + " system has condition number "
                                + String.format(java.util.Locale.ROOT, "%.3g", condition) + " > limit "
                                + String.format(java.util.Locale.ROOT, "%.3g", options.maxCondition())
                                + "); edit them separately, drop one, or use a ridge λ > 0", rows, condition);
                    }
                }
                nanos[1] += System.nanoTime() - t;

                // ---- Step 2: v* (compute_v), batched over the chunk's requests
                listener.phase(part.get(0), "value");
                t = System.nanoTime();
                for (EditRequest request : part) {
                    try (PromptBatch cb = PromptBatch.of(tokenizer, model, candidateTexts(request), (String) null)) {
                        candidates.add(encodeCandidates(model, cb));
                    }
                }
                searches.addAll(ValueOptimizer.run(model, hp, batch, g, trace, keys.vBare(), candidates, part,
                        listener));
                for (int i = c0; i < c1; i++) {
                    ValueOptimizer.Search sr = searches.get(i - c0);
                    // the search diverged or did not move: an error, before any weight change
                    EditChecks.searchMoved(sr.delta(), sr.steps(), sr.stopReason(), sr.losses(), requests.get(i), hp);
                    try (NoGradGuard ng = new NoGradGuard()) {
                        vStar[i] = Tensors.toFloats(keys.vBare().get(i - c0).add(sr.delta()));
                        searched[i] = new ChunkOutcome(sr.steps(), sr.stopReason(), sr.finalTargetProbability(),
                                sr.delta().norm().item_double(), keys.vBare().get(i - c0).norm().item_double());
                    }
                }
                nanos[2] += System.nanoTime() - t;
            } finally {
                candidates.forEach(Tensor::close);
                searches.forEach(ValueOptimizer.Search::close);
            }
        }
        timings.put("keys", Duration.ofNanos(nanos[0]));
        timings.put("solve", Duration.ofNanos(nanos[1]));
        timings.put("value", Duration.ofNanos(nanos[2]));
        try (PointerScope scope = new PointerScope()) {
            // ---- Step 3: the update
            listener.phase(first, "update");
            long t = System.nanoTime();
            String changeId = rankOne ? changeId(fingerprint, first) : jointChangeId(fingerprint, requests, options);
            float[][] r = new float[n + p][];
            double[][] before = protectedOutputs(model, weightName, kBare, n, p);
            for (int j = 0; j < p; j++) {
                vStar[n + j] = toFloats(before[j]);
            }
            if (rankOne) {
                // the single edit's arithmetic on the same values (arrays hold them exactly)
                Tensor direction = KeyComputer.direction(stats, Tensors.doubles(kMean0, model.device(),
                        kMean0.length));
                Tensor kb = Tensors.floats(kBare[0], model.device(), kBare[0].length).to(model.dtype());
                Tensor vb = Tensors.floats(vBare[0], model.device(), vBare[0].length).to(model.dtype());
                Tensor vs = Tensors.floats(vStar[0], model.device(), vStar[0].length).to(model.dtype());
                float[][] ur = applyRankOne(model, weightName, direction, kb, vb, vs, first, changeId);
                u[0] = ur[0];
                r[0] = ur[1];
            } else {
                double[][] d = new double[n + p][];
                for (int i = 0; i < n; i++) {
                    double[] vs = new double[vStar[i].length];
                    for (int c = 0; c < vs.length; c++) {
                        vs[c] = (double) vStar[i][c] - vBare[i][c];
                    }
                    d[i] = vs;
                }
                for (int j = 0; j < p; j++) {
                    d[n + j] = new double[vStar[0].length];             // protected: keep the current output
                }
                double[][] r64 = JointUpdate.solve(system, d, options.ridge());
                for (int i = 0; i < n + p; i++) {
                    r[i] = toFloats(r64[i]);
                    EditChecks.finiteUpdate(u[i], r[i], requests.get(Math.min(i, n - 1)));
                }
                JointUpdate.apply(model, weightName, r, u, changeId);
            }
            // NaN/Inf anywhere in the encoder's outputs: undone, refused
            EditChecks.encoderStaysFinite(model, changeId);
            timings.put("update", elapsed(t));

            // ---- how well every row holds, measured with the edited weights
            double[] residual = residuals(model, requests, vStar, vBare, chunk);
            double drift = 0;
            if (p > 0) {
                double[][] after = protectedOutputs(model, weightName, kBare, n, p);
                for (int j = 0; j < p; j++) {
                    double num = 0;
                    double den = 0;
                    for (int c = 0; c < after[j].length; c++) {
                        num += (after[j][c] - before[j][c]) * (after[j][c] - before[j][c]);
                        den += before[j][c] * before[j][c];
                    }
                    drift = Math.max(drift, Math.sqrt(num / Math.max(den, Double.MIN_NORMAL)));
                }
            }
            List<RequestOutcome> outcomes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ChunkOutcome s = searched[i];
                outcomes.add(new RequestOutcome(requests.get(i), s.steps(), s.stopReason(), s.finalTargetProbability(),
                        s.deltaNorm(), s.t0Norm(), residual[i]));
            }
            EditProvenance provenance = new EditProvenance(fingerprint, model.source(), stats.id(),
                    EditProvenance.currentLibraryVersion(), TorchRuntime.describe(), Instant.now().toString());
            return new JointEditResult(outcomes, protectedKeys, hp, changeId, weightName, u, r, kBar, kBare, vStar,
                    condition, options.ridge(), drift, timings, provenance, model);
        }
    }

    /** Requests per chunk of a joint edit's keys and v* searches (and of its residual check). */
    static final int JOINT_CHUNK = 32;

    /** What a joint edit keeps of one request's search once its chunk's tensors are freed. */
    private record ChunkOutcome(int steps, StopReason stopReason, double finalTargetProbability, double deltaNorm,
                                double t0Norm) {
    }

    /** Rows 0..c1−1 (requests known so far) and the p protected rows n..n+p−1 of {@code rows}. */
    private static float[][] known(float[][] rows, int c1, int n, int p) {
        float[][] out = new float[c1 + p][];
        System.arraycopy(rows, 0, out, 0, c1);
        System.arraycopy(rows, n, out, c1, p);
        return out;
    }

    /** Same subject twice (different targets: a contradiction; same target: a duplicate) is refused. */
    private static void checkSubjects(List<EditRequest> requests, List<ProtectedKey> protectedKeys) {
        List<EditRequest> all = new ArrayList<>(requests);
        protectedKeys.forEach(k -> all.add(k.request()));
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (int j = 0; j < all.size(); j++) {
            String key = all.get(j).subject().toLowerCase(java.util.Locale.ROOT).strip().replaceAll("\\s+", " ");
            Integer i = seen.putIfAbsent(key, j);
            if (i != null) {
                EditRequest a = all.get(i);
                EditRequest b = all.get(j);
                boolean sameTarget = a.target().equalsIgnoreCase(b.target());
                String why = sameTarget ? "are the same edit (subject \"" + a.subject() + "\", target \"" + a.target()
                        + "\"): drop one" : "have the same subject \"" + a.subject() + "\" but different targets (\""
                        + a.target() + "\" vs \"" + b.target() + "\"): both cannot hold";
                throw new EditConflictException("refused before any weight change: "
                        + describeRows(List.of(i, j), requests, protectedKeys) + " " + why, List.of(i, j), Double.NaN);
            }
        }
    }

    private static String describeRows(List<Integer> rows, List<EditRequest> requests, List<ProtectedKey> prot) {
        List<String> parts = new ArrayList<>();
        for (int j : rows) {
            if (j < requests.size()) {
                parts.add("request " + j + " (\"" + requests.get(j).prompt() + "\" → \"" + requests.get(j).target()
                        + "\")");
            } else {
                ProtectedKey k = prot.get(j - requests.size());
                parts.add("protected earlier edit " + k.changeId() + " (\"" + k.request().prompt() + "\" → \""
                        + k.request().target() + "\")");
            }
        }
        return String.join(" and ", parts);
    }

    /** W k_b,j + b in float64 for the protected rows n..n+p−1 with the current weights: [p][d_out]. */
    private double[][] protectedOutputs(ClipTextModel model, String weightName, float[][] kBare, int n, int p) {
        double[][] out = new double[p][];
        if (p == 0) {
            return out;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor w = model.parameter(weightName).to(torch.ScalarType.Double);
            Tensor b = model.parameter(ClipTextModel.fc2BiasName(hp.layer())).to(torch.ScalarType.Double);
            for (int j = 0; j < p; j++) {
                Tensor k = Tensors.floats(kBare[n + j], w.device(), kBare[n + j].length).to(torch.ScalarType.Double);
                out[j] = Tensors.toDoubles(w.mv(k).add(b));
            }
        }
        return out;
    }

    /**
     * ‖W' k_b + b − v*‖ / ‖v* − v_b‖ per request, with W' the edited weights, from a forward pass of the bare
     * prompts (the keys at layer L do not depend on layer L's fc2).
     */
    private double[] residuals(ClipTextModel model, List<EditRequest> requests, float[][] vStar, float[][] vBare,
                               int chunk) {
        int n = requests.size();
        List<String> bare = requests.stream().map(EditRequest::subject).toList();
        double[] res = new double[n];
        for (int c0 = 0; c0 < n; c0 += chunk) {                        // bounded memory, as the searches
            int c1 = Math.min(n, c0 + chunk);
            try (PointerScope scope = new PointerScope();
                 PromptBatch batch = PromptBatch.ofSubjects(tokenizer, model, bare.subList(c0, c1), bare.subList(c0, c1));
                 MlpTrace trace = model.traceMlp(batch.ids(), hp.layer())) {
                Tensor outs = KeyComputer.gather(trace.output(), batch);       // [c1−c0,d]
                for (int i = c0; i < c1; i++) {
                    float[] o = Tensors.toFloats(outs.select(0, i - c0));
                    float[] vb = vBare[i];
                    double num = 0;
                    double den = 0;
                    for (int c = 0; c < o.length; c++) {
                        num += ((double) o[c] - vStar[i][c]) * ((double) o[c] - vStar[i][c]);
                        den += ((double) vStar[i][c] - vb[c]) * ((double) vStar[i][c] - vb[c]);
                    }
                    res[i] = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
                }
            }
        }
        return res;
    }

    /**
     * ROME's closed form from the key direction, k_b, v_b and v* ({@link RankOneUpdate}), rounded to the model's
     * dtype, checked finite and applied as {@code W += r uᵀ} under {@code changeId}: the single edit and a
     * one-request joint edit share it, so they are the same edit bit for bit.
     *
     * @return {u, r} as applied (model dtype values, as float32 arrays)
     */
    private static float[][] applyRankOne(ClipTextModel model, String weightName, Tensor direction, Tensor kBare,
                                          Tensor vBare, Tensor vStar, EditRequest request, String changeId) {
        try (RankOneUpdate.Factors f = RankOneUpdate.compute(direction, kBare, vBare, vStar)) {
            Tensor u32 = f.u().to(model.dtype());
            Tensor r32 = f.r().to(model.dtype());
            EditChecks.finiteUpdate(u32, r32, request);
            model.applyRankOneUpdate(weightName, r32, u32, changeId);
            return new float[][] {Tensors.toFloats(u32), Tensors.toFloats(r32)};
        }
    }

    /**
     * Undoes {@code done} (newest first) after request {@code i} failed, and says so: every request of a list is
     * applied or none is. The exception returned has the failure's type: an {@link EditConflictException} stays one
     * (with the same rows and condition number), others become an {@code IllegalArgumentException} or
     * {@code IllegalStateException}; each with the failure as its cause.
     */
    private static RuntimeException rolledBack(List<? extends AppliedEdit> done, int i, List<EditRequest> requests,
                                               RuntimeException e) {
        for (int j = done.size() - 1; j >= 0; j--) {
            done.get(j).undo();
        }
        String msg = "edit " + i + " of " + requests.size() + " (" + requests.get(i).prompt() + " → "
                + requests.get(i).target() + ") failed; the " + done.size()
                + " edit(s) made before it were undone: " + e.getMessage();
        if (e instanceof EditConflictException c) {
            EditConflictException x = new EditConflictException(msg, c.requests(), c.conditionNumber());
            x.initCause(c);
            return x;
        }
        return e instanceof IllegalArgumentException ? new IllegalArgumentException(msg, e)
                : new IllegalStateException(msg, e);
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private String jointChangeId(String fingerprint, List<EditRequest> requests, JointOptions options) {
        StringBuilder key = new StringBuilder(fingerprint).append('\n');
        requests.forEach(r -> key.append(r).append('\n'));
        options.protectedKeys().forEach(k -> key.append("protect ").append(k.changeId()).append('\n'));
        key.append("ridge ").append(options.ridge()).append('\n').append(hp.toJson()).append('\n').append(stats.id());
        return "joint-" + dev.refact.clip.io.Sha256.hex(key.toString()).substring(0, 16);
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

    private String changeId(String fingerprint, EditRequest request) {
        String key = fingerprint + "\n" + request + "\n" + hp.toJson() + "\n" + stats.id();
        return "edit-" + dev.refact.clip.io.Sha256.hex(key).substring(0, 16);
    }

    private static Duration elapsed(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
