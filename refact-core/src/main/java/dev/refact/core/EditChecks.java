package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.torch.Finite;
import dev.refact.clip.torch.Tensors;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * An edit that did not do what it says is not a success. Checks called with one line each from the editor (after
 * the v* search, before and after the update) and from {@link SavedEdit#apply}: a diverged or non-moving search,
 * non-finite factors, an absurdly large update, an encoder that no longer produces finite outputs.
 */
final class EditChecks {
    /**
     * Largest accepted ‖ΔW‖_F / ‖W‖_F = ‖r‖·‖u‖ / ‖W‖_F for an applied edit file without force: an update ten
     * times as large as the weight it changes. Edits the editor makes stay below 1 (the tiny random test encoder,
     * 30 steps: 0.64); an edit file whose r was scaled by 1e30 is at ≈ 1e29.
     */
    static final double MAX_RELATIVE_UPDATE = 10.0;

    private EditChecks() {
    }

    /**
     * After the v* search: δ finite and, unless the target already won before any step, not zero; the loss did not
     * end above where it started.
     *
     * @param delta  δ [d]
     * @param steps  Adam steps taken
     * @param reason why the search stopped
     * @param losses loss before each step
     * @throws IllegalStateException naming the request and the learning rate
     */
    static void searchMoved(Tensor delta, int steps, StopReason reason, double[] losses, EditRequest request,
                            Hyperparameters hp) {
        String what = "v* search for " + quote(request.prompt()) + " → " + quote(request.target());
        String lr = String.format(Locale.ROOT, "%g", hp.learningRate());
        double norm;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            if (!Finite.all(delta)) {
                throw new IllegalStateException(what + " diverged: δ is not finite after " + steps
                        + " steps (learning rate " + lr + " too large?); the weights were not changed");
            }
            norm = delta.detach().norm().item_double();
        }
        if (norm == 0 && !(reason == StopReason.CONVERGED && steps == 0)) {
            String why = hp.learningRate() > 1e3 ? "learning rate " + lr + " is far too large"
                    : "learning rate " + lr + "; the objective does not depend on δ here, e.g. in the last layer the "
                    + "subject's position does not reach the pooled token";
            throw new IllegalStateException(what + " did not move: δ is still zero after " + steps + " steps at layer "
                    + hp.layer() + " (" + why + "); nothing was edited and the weights were not changed");
        }
        if (steps > 0 && losses.length > 1 && reason == StopReason.STEP_CAP
                && losses[losses.length - 1] > losses[0] * (1 + 1e-6) + 1e-9) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%s diverged: the loss rose from %.4g to %.4g "
                    + "over %d steps (learning rate %s too large?); the weights were not changed", what, losses[0],
                    losses[losses.length - 1], steps, lr));
        }
    }

    /**
     * Before the update: u, r finite and r uᵀ finite in float32.
     *
     * @param u [i]
     * @param r [d]
     * @throws IllegalStateException if not
     */
    static void finiteUpdate(Tensor u, Tensor r, EditRequest request) {
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            if (!Finite.all(u) || !Finite.all(r)) {
                throw notFinite(request);
            }
            checkProduct(u.detach().abs().max().item_double() * r.detach().abs().max().item_double(), request);
        }
    }

    /** As {@link #finiteUpdate(Tensor, Tensor, EditRequest)} on host arrays (no device round trip). */
    static void finiteUpdate(float[] u, float[] r, EditRequest request) {
        double mu = maxAbs(u);
        double mr = maxAbs(r);
        if (Double.isNaN(mu) || Double.isNaN(mr)) {
            throw notFinite(request);
        }
        checkProduct(mu * mr, request);
    }

    /** max |v_i|, or NaN if any value is NaN or ±Inf. */
    private static double maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return Double.NaN;
            }
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static IllegalStateException notFinite(EditRequest request) {
        return new IllegalStateException("the update for " + quote(request.prompt()) + " → "
                + quote(request.target()) + " is not finite (u or r has NaN/Inf); the weights were not changed");
    }

    private static void checkProduct(double m, EditRequest request) {
        if (!(m < Float.MAX_VALUE)) {
            throw new IllegalStateException("the update r uᵀ for " + quote(request.prompt())
                    + " overflows float32; the weights were not changed");
        }
    }

    /**
     * Before an edit file is applied: the update's size relative to the weight it changes.
     *
     * @param force accept any finite size
     * @throws IllegalStateException if ‖r‖·‖u‖ / ‖W‖_F exceeds {@link #MAX_RELATIVE_UPDATE} (unless forced) or is
     *                               not finite
     */
    static void plausibleMagnitude(SavedEdit e, ClipTextModel model, boolean force) {
        plausibleMagnitude(e.changeId(), e.weightName(), new float[][] {e.u()}, new float[][] {e.r()}, model, force);
    }

    /**
     * As {@link #plausibleMagnitude(SavedEdit, ClipTextModel, boolean)} for ΔW = Σ_i r_i u_iᵀ (a joint edit's rows),
     * bounded by Σ_i ‖r_i‖·‖u_i‖.
     */
    static void plausibleMagnitude(String changeId, String weightName, float[][] u, float[][] r, ClipTextModel model,
                                   boolean force) {
        double ru = 0;
        for (int i = 0; i < u.length; i++) {
            ru += norm(u[i]) * norm(r[i]);
        }
        double w;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            w = model.parameter(weightName).to(org.bytedeco.pytorch.global.torch.ScalarType.Double).norm()
                    .item_double();
        }
        double rel = ru / w;
        if (!Double.isFinite(ru) || ru > Float.MAX_VALUE) {
            throw new IllegalStateException("edit " + changeId + " has an update of norm " + ru
                    + ", which does not fit float32; refused");
        }
        if (!force && !(rel <= MAX_RELATIVE_UPDATE)) {
            throw new IllegalStateException(String.format(Locale.ROOT, "edit %s changes %s by ‖ΔW‖/‖W‖ = %.3g, more "
                    + "than %.3g (an edit made by refact is far smaller: the file is damaged or hostile); refused "
                    + "(--force applies it anyway)", changeId, weightName, rel, MAX_RELATIVE_UPDATE));
        }
    }

    /**
     * After an update: the encoder still gives finite outputs on a probe sequence; if not, the change is undone
     * (bit for bit) and the edit refused.
     *
     * @throws IllegalStateException naming the change, after undoing it
     */
    static void encoderStaysFinite(ClipTextModel model, String changeId) {
        int n = Math.min(8, model.config().maxPositionEmbeddings());
        int vocab = model.config().vocabSize();
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i == n - 1 ? vocab - 1 : (i * 7919L) % vocab; // the last id is the largest (legacy argmax pooling)
        }
        boolean finite;
        try (PointerScope scope = new PointerScope(); Tensor t = Tensors.longs(ids, model.device(), 1, n);
             TextEncoding enc = model.encode(t)) {
            finite = Finite.all(enc.lastHiddenState()) && Finite.all(enc.pooled())
                    && (enc.textEmbeds() == null || Finite.all(enc.textEmbeds()));
        }
        if (!finite) {
            model.undo(changeId);
            throw new IllegalStateException("edit " + changeId + " makes the text encoder produce NaN/Inf; it was "
                    + "undone and the weights are unchanged");
        }
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float x : a) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private static String quote(String s) {
        return dev.refact.clip.io.TextFiles.abbreviate(s, 80);
    }
}
