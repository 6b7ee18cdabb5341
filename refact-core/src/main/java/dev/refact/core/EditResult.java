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

    /**
     * The request this edit applied.
     *
     * @return the request, as normalised by {@link EditRequest}
     */
    public EditRequest request() {
        return request;
    }

    /**
     * The settings the edit ran with.
     *
     * @return the editor's hyperparameters
     */
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

    /**
     * u [i]: unit C⁻¹k̄ direction (a copy).
     *
     * @return a new float32 array of length i (the MLP width, 3072 for SD 1.x), unit norm (computed in float64)
     */
    public float[] u() {
        return u.clone();
    }

    /**
     * r [d]: (v* − v_b)/(k_bᵀu) (a copy).
     *
     * @return a new float32 array of length d (the model width, 768 for SD 1.x)
     */
    public float[] r() {
        return r.clone();
    }

    /**
     * v* [d] = t₀ + δ (a copy).
     *
     * @return a new float32 array of length d: the fc2 output the edit installs at the bare subject's last token
     */
    public float[] vStar() {
        return vStar.clone();
    }

    /**
     * k̄ [i]: mean key over the context templates (a copy).
     *
     * @return a new float32 array of length i (computed in float64, stored as float32)
     */
    public float[] kMean() {
        return kMean.clone();
    }

    /**
     * Adam steps taken.
     *
     * @return the number of Adam updates of δ, from 0 to {@link Hyperparameters#adamUpdateCap()}
     */
    public int steps() {
        return steps;
    }

    /**
     * Why the v* search stopped (threshold reached or step cap).
     *
     * @return {@link StopReason#CONVERGED} or {@link StopReason#STEP_CAP}
     */
    public StopReason stopReason() {
        return stopReason;
    }

    /**
     * Mean p(target) over the rewriting prompts when the search ended.
     *
     * @return a probability in [0, 1], measured with the final δ
     */
    public double targetProbability() {
        return targetProbability;
    }

    /**
     * Loss before each step, and after the last one: always one more entry than {@link #steps()} (the search
     * measures the final δ with one more forward pass, whether it then stops as converged or at the step cap).
     *
     * @return a new array, one loss per forward pass of the search (the last one measures the final δ)
     */
    public double[] losses() {
        return losses.clone();
    }

    /**
     * Mean p(target) before each step.
     *
     * @return a new array aligned with {@link #losses()}, each in [0, 1]
     */
    public double[] targetProbabilities() {
        return targetProbabilities.clone();
    }

    /**
     * ‖δ‖ of the final value.
     *
     * @return the L2 norm of v* − t₀ (clamped to at most {@code clampFactor}·‖t₀‖ by the search)
     */
    public double deltaNorm() {
        return deltaNorm;
    }

    /**
     * ‖t₀‖, the clean MLP output's norm at the bare subject's last token.
     *
     * @return the L2 norm of t₀ = v_b
     */
    public double t0Norm() {
        return t0Norm;
    }

    /**
     * Wall time per phase ({@code keys}, {@code solve}, {@code value}, {@code update}), in order.
     *
     * @return a new insertion-ordered map from phase name to its duration
     */
    public Map<String, Duration> timings() {
        return new LinkedHashMap<>(timings);
    }

    /**
     * Where the edit came from: model fingerprint, statistics, versions.
     *
     * @return the provenance recorded when the edit was made
     */
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

    /**
     * The portable form of this edit (u, r, layer, provenance).
     *
     * @return a new {@link SavedEdit} with this edit's factors, request and hyperparameters; it holds no reference
     *         to the model
     */
    public SavedEdit toSavedEdit() {
        return new SavedEdit(changeId, layer(), weightName, u, r, provenance.modelFingerprint(), request,
                hyperparameters.toJson(), provenance);
    }

    /**
     * Writes the edit file (see {@link SavedEdit#save(Path)}).
     *
     * @param file the file to write (conventionally {@code *.edit.safetensors}); replaced atomically if it exists
     * @throws IOException if writing fails; the file is then unchanged
     */
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
