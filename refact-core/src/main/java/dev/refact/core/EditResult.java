package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The outcome of one applied edit: the rank-one factors, how the v* search went, timings and provenance.
 *
 * <p>Vectors are plain Java arrays (this object holds no native memory): {@link #u()} [i] (3072 for SD 1.x),
 * {@link #r()} [d] (768), {@link #vStar()} [d], {@link #kMean()} [i]. The weight change is
 * {@code W_fc2 ← W_fc2 + r uᵀ} at {@link #layer()}.
 *
 * <p>{@link #undo()} restores the model's weights bit for bit; edits must be undone newest first.
 */
public final class EditResult implements AppliedEdit {
    private final EditRequest request;
    private final Hyperparameters hyperparameters;
    private final String changeId;
    private final String weightName;
    private final float[] u;
    private final float[] r;
    private final float[] vStar;
    private final float[] kMean;
    private final int steps;
    private final StopReason stopReason;
    private final double targetProbability;
    private final double[] losses;
    private final double[] targetProbabilities;
    private final double deltaNorm;
    private final double t0Norm;
    private final Map<String, Duration> timings;
    private final EditProvenance provenance;
    private final UndoState undoState;

    EditResult(EditRequest request, Hyperparameters hyperparameters, String changeId, String weightName, float[] u,
               float[] r, float[] vStar, float[] kMean, int steps, StopReason stopReason, double targetProbability,
               double[] losses, double[] targetProbabilities, double deltaNorm, double t0Norm,
               Map<String, Duration> timings, EditProvenance provenance, ClipTextModel model) {
        this.request = request;
        this.hyperparameters = hyperparameters;
        this.changeId = changeId;
        this.weightName = weightName;
        this.u = u;
        this.r = r;
        this.vStar = vStar;
        this.kMean = kMean;
        this.steps = steps;
        this.stopReason = stopReason;
        this.targetProbability = targetProbability;
        this.losses = losses;
        this.targetProbabilities = targetProbabilities;
        this.deltaNorm = deltaNorm;
        this.t0Norm = t0Norm;
        this.timings = new LinkedHashMap<>(timings);
        this.provenance = provenance;
        this.undoState = new UndoState(model, changeId);
    }

    /** The request this edit applied. */
    public EditRequest request() {
        return request;
    }

    /** The settings the edit ran with. */
    public Hyperparameters hyperparameters() {
        return hyperparameters;
    }

    /** The id under which the model journals this change. */
    @Override
    public String changeId() {
        return changeId;
    }

    /** The edited layer. */
    @Override
    public int layer() {
        return hyperparameters.layer();
    }

    /** The edited weight's checkpoint name. */
    @Override
    public String weightName() {
        return weightName;
    }

    /** u [i]: unit C⁻¹k̄ direction (a copy). */
    public float[] u() {
        return u.clone();
    }

    /** r [d]: (v* − v_b)/(k_bᵀu) (a copy). */
    public float[] r() {
        return r.clone();
    }

    /** v* [d] = t₀ + δ (a copy). */
    public float[] vStar() {
        return vStar.clone();
    }

    /** k̄ [i]: mean key over the context templates (a copy). */
    public float[] kMean() {
        return kMean.clone();
    }

    /** Adam steps taken. */
    public int steps() {
        return steps;
    }

    /** Why the v* search stopped (threshold reached or step cap). */
    public StopReason stopReason() {
        return stopReason;
    }

    /** Mean p(target) over the rewriting prompts when the search ended. */
    public double targetProbability() {
        return targetProbability;
    }

    /** Loss before each step (one more entry than steps when the cap was reached). */
    public double[] losses() {
        return losses.clone();
    }

    /** Mean p(target) before each step. */
    public double[] targetProbabilities() {
        return targetProbabilities.clone();
    }

    /** ‖δ‖ of the final value. */
    public double deltaNorm() {
        return deltaNorm;
    }

    /** ‖t₀‖, the clean MLP output's norm at the bare subject's last token. */
    public double t0Norm() {
        return t0Norm;
    }

    /** Wall time per phase ({@code keys}, {@code solve}, {@code value}, {@code update}), in order. */
    public Map<String, Duration> timings() {
        return new LinkedHashMap<>(timings);
    }

    /** Where the edit came from: model fingerprint, statistics, versions. */
    public EditProvenance provenance() {
        return provenance;
    }

    /** Whether {@link #undo()} has run. */
    @Override
    public boolean isUndone() {
        return undoState.isUndone();
    }

    /**
     * Restores the weights the edit changed, bit for bit.
     *
     * @throws IllegalStateException if already undone, if later changes to the model have not been undone, or if
     *                               the model is closed
     */
    @Override
    public void undo() {
        undoState.undo();
    }

    /** The portable form of this edit (u, r, layer, provenance). */
    public SavedEdit toSavedEdit() {
        return new SavedEdit(changeId, layer(), weightName, u, r, provenance.modelFingerprint(), request,
                hyperparameters.toJson(), provenance);
    }

    /** Writes the edit file (see {@link SavedEdit#save(Path)}). */
    public void save(Path file) throws IOException {
        toSavedEdit().save(file);
    }

    @Override
    public String toString() {
        return "EditResult[" + request + ", layer " + layer() + ", " + steps + " steps, " + stopReason
                + ", p(target) " + String.format(java.util.Locale.ROOT, "%.4f", targetProbability) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EditResult e && e.changeId.equals(changeId)
                && Objects.equals(e.undoState.model(), undoState.model());
    }

    @Override
    public int hashCode() {
        return changeId.hashCode();
    }
}
