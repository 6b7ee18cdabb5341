package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of a joint edit: n requests (and p protected earlier keys) changed by one update
 * {@code W_fc2 ← W_fc2 + Σ_i r_i u_iᵀ}, journalled under one change id (one {@link #undo()}).
 *
 * <p>Rows 0..n−1 of the factor arrays are the requests in order, rows n..n+p−1 the protected keys. Arrays are
 * plain Java copies (no native memory): {@link #u()}, {@link #kBar()}, {@link #kBare()} [n+p][d_in] (3072 for SD
 * 1.x); {@link #r()}, {@link #vStar()} [n+p][d_out] (768). A protected row's v* is its output before the edit.
 */
public final class JointEditResult implements AppliedEdit {
    private final List<RequestOutcome> outcomes;
    private final List<ProtectedKey> protectedKeys;
    private final Hyperparameters hyperparameters;
    private final String changeId;
    private final String weightName;
    private final float[][] u;
    private final float[][] r;
    private final float[][] kBar;
    private final float[][] kBare;
    private final float[][] vStar;
    private final double conditionNumber;
    private final double ridge;
    private final double protectedDrift;
    private final Map<String, Duration> timings;
    private final EditProvenance provenance;
    private final UndoState undoState;

    JointEditResult(List<RequestOutcome> outcomes, List<ProtectedKey> protectedKeys, Hyperparameters hyperparameters,
                    String changeId, String weightName, float[][] u, float[][] r, float[][] kBar, float[][] kBare,
                    float[][] vStar, double conditionNumber, double ridge, double protectedDrift,
                    Map<String, Duration> timings, EditProvenance provenance, ClipTextModel model) {
        this.outcomes = List.copyOf(outcomes);
        this.protectedKeys = List.copyOf(protectedKeys);
        this.hyperparameters = hyperparameters;
        this.changeId = changeId;
        this.weightName = weightName;
        this.u = u;
        this.r = r;
        this.kBar = kBar;
        this.kBare = kBare;
        this.vStar = vStar;
        this.conditionNumber = conditionNumber;
        this.ridge = ridge;
        this.protectedDrift = protectedDrift;
        this.timings = new LinkedHashMap<>(timings);
        this.provenance = provenance;
        this.undoState = new UndoState(model, changeId);
    }

    /**
     * Per request, in order: steps, stop reason, p(target), residual.
     *
     * @return an unmodifiable list of n outcomes, one per request
     */
    public List<RequestOutcome> outcomes() {
        return outcomes;
    }

    /**
     * The requests, in order.
     *
     * @return an unmodifiable list of the n requests
     */
    public List<EditRequest> requests() {
        return outcomes.stream().map(RequestOutcome::request).toList();
    }

    /**
     * The earlier edits this update kept fixed (rows n.. of the factors).
     *
     * @return the p protected keys of {@link JointOptions#protectedKeys()}, in row order (an unmodifiable list,
     *         empty if none)
     */
    public List<ProtectedKey> protectedRows() {
        return protectedKeys;
    }

    /**
     * This edit's requests as keys to protect in later edits (one per request, in order).
     *
     * @return a new list of n keys (key i has change id {@link #changeId()} + {@code "#i"}); pass them to
     *         {@link JointOptions#protecting(List)}
     */
    public List<ProtectedKey> protectedKeys() {
        List<ProtectedKey> keys = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            keys.add(new ProtectedKey(changeId + "#" + i, outcomes.get(i).request(), layer(), u[i], kBar[i], kBare[i]));
        }
        return keys;
    }

    /**
     * The hyperparameters every request's search used.
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
     * Number of rows of the update: requests plus protected keys.
     *
     * @return n + p, the number of rows of every factor array
     */
    public int rows() {
        return u.length;
    }

    /**
     * u [n+p][d_in] (a copy).
     *
     * @return a new array of n + p float32 rows of length d_in, each a unit direction C⁻¹k̄/‖C⁻¹k̄‖
     */
    public float[][] u() {
        return JointUpdate.copy(u);
    }

    /**
     * r [n+p][d_out] (a copy).
     *
     * @return a new array of n + p float32 rows of length d_out
     */
    public float[][] r() {
        return JointUpdate.copy(r);
    }

    /**
     * k̄ [n+p][d_in] (a copy).
     *
     * @return a new array of n + p float32 rows of length d_in: each row's mean key over the context templates
     */
    public float[][] kBar() {
        return JointUpdate.copy(kBar);
    }

    /**
     * k_b [n+p][d_in] (a copy).
     *
     * @return a new array of n + p float32 rows of length d_in: each row's key at the bare subject's last token
     */
    public float[][] kBare() {
        return JointUpdate.copy(kBare);
    }

    /**
     * v* [n+p][d_out] (a copy); for protected rows their value before this edit.
     *
     * @return a new array of n + p float32 rows of length d_out
     */
    public float[][] vStar() {
        return JointUpdate.copy(vStar);
    }

    /**
     * 2-norm condition number of the (n+p)×(n+p) system A (1 for a single unprotected request).
     *
     * @return κ ≥ 1, infinite if the system is singular (possible only with a ridge λ &gt; 0)
     */
    public double conditionNumber() {
        return conditionNumber;
    }

    /**
     * The ridge λ used (0 = exact).
     *
     * @return {@link JointOptions#ridge()} of the call, ≥ 0
     */
    public double ridge() {
        return ridge;
    }

    /**
     * Largest residual over the requests (see {@link RequestOutcome#residual()}).
     *
     * @return the maximum of {@link RequestOutcome#residual()} over {@link #outcomes()} (0 = every request holds
     *         exactly)
     */
    public double maxResidual() {
        return outcomes.stream().mapToDouble(RequestOutcome::residual).max().orElse(0);
    }

    /**
     * Largest relative change ‖Δo‖/‖o‖ of a protected key's output (0 without protected keys).
     *
     * @return the drift, measured with the edited weights; ≥ 0
     */
    public double protectedDrift() {
        return protectedDrift;
    }

    /**
     * Wall time per phase ({@code keys}, {@code solve}, {@code value}, {@code update}), in order.
     *
     * @return a new insertion-ordered map from phase name to its duration, summed over the chunks of requests
     */
    public Map<String, Duration> timings() {
        return new LinkedHashMap<>(timings);
    }

    /**
     * Where the edit was made: model fingerprint and source, statistics, library and runtime, time.
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
     * @throws IllegalStateException if already undone, or if later changes to the model have not been undone
     */
    @Override
    public void undo() {
        undoState.undo();
    }

    /**
     * The portable form (all rows, per-request provenance).
     *
     * @return a new {@link SavedJointEdit} with every row's factors and keys; it holds no reference to the model
     */
    public SavedJointEdit toSavedEdit() {
        List<SavedJointEdit.Row> rows = new ArrayList<>();
        for (RequestOutcome o : outcomes) {
            rows.add(new SavedJointEdit.Row(o.request(), SavedJointEdit.Role.EDIT, changeId, o.steps(),
                    o.stopReason().name().toLowerCase(Locale.ROOT), o.targetProbability(), o.residual()));
        }
        for (ProtectedKey k : protectedKeys) {
            rows.add(new SavedJointEdit.Row(k.request(), SavedJointEdit.Role.PROTECTED, k.changeId(), 0, "", Double.NaN,
                    Double.NaN));
        }
        return new SavedJointEdit(changeId, layer(), weightName, u, r, kBar, kBare, vStar,
                provenance.modelFingerprint(), rows, hyperparameters.toJson(), conditionNumber, ridge, provenance);
    }

    /**
     * Writes the joint edit file (see {@link SavedJointEdit#save(Path)}).
     *
     * @param file the file to write; replaced atomically if it exists
     * @throws IOException if writing fails; the file is then unchanged
     */
    public void save(Path file) throws IOException {
        toSavedEdit().save(file);
    }

    @Override
    public String toString() {
        return "JointEditResult[" + outcomes.size() + " requests, " + protectedKeys.size() + " protected, layer "
                + layer() + ", condition " + String.format(Locale.ROOT, "%.3g", conditionNumber) + ", max residual "
                + String.format(Locale.ROOT, "%.2e", maxResidual()) + "]";
    }
}
