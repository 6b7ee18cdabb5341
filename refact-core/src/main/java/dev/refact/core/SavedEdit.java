package dev.refact.core;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * An edit as a small portable file (≈15 KB for SD 1.x): a safetensors file with float32 tensors {@code u}
 * [i] and {@code r} [d] and string metadata ({@code refact.kind = edit}, layer, weight name, change id,
 * the fingerprint of the weights it was computed on, the request, hyperparameters and provenance as JSON).
 *
 * <p>{@link #apply(ClipTextModel, boolean)} adds {@code r uᵀ} to the named weight of another instance of the
 * same model; it refuses a model whose current fingerprint differs unless forced.
 *
 * @param changeId            unique id of the change
 * @param layer               edited layer
 * @param weightName          checkpoint name of the edited weight
 * @param u                   [i] direction
 * @param r                   [d] update vector
 * @param modelFingerprint    fingerprint of the weights the edit was computed on
 * @param request             the request
 * @param hyperparametersJson hyperparameters as JSON
 * @param provenance          provenance
 */
public record SavedEdit(String changeId, int layer, String weightName, float[] u, float[] r, String modelFingerprint,
                        EditRequest request, String hyperparametersJson, EditProvenance provenance) {
    /** Metadata value of {@code refact.kind} in edit files. */
    public static final String KIND = "edit";
    /** Format version written in {@code refact.edit_version}. */
    public static final String VERSION = "1";

    /**
     * Copies the arrays and checks them.
     *
     * @param changeId            unique id of the change, not null
     * @param layer               edited layer
     * @param weightName          checkpoint name of the edited weight, not null
     * @param u                   [i] direction, finite (copied)
     * @param r                   [d] update vector, finite (copied)
     * @param modelFingerprint    fingerprint of the weights the edit was computed on, not null
     * @param request             the request, not null
     * @param hyperparametersJson hyperparameters as JSON ({@link Hyperparameters#toJson()}), not null
     * @param provenance          provenance, not null
     * @throws NullPointerException     if an object component is null
     * @throws IllegalArgumentException if {@code u} or {@code r} has a non-finite value
     */
    public SavedEdit {
        Objects.requireNonNull(changeId, "changeId");
        Objects.requireNonNull(weightName, "weightName");
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(hyperparametersJson, "hyperparametersJson");
        Objects.requireNonNull(provenance, "provenance");
        u = u.clone();
        r = r.clone();
        for (float[] a : new float[][] {u, r}) {
            for (float x : a) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("edit " + changeId + " has non-finite values");
                }
            }
        }
    }

    /**
     * Writes the edit file atomically.
     *
     * @param file the file to write (conventionally {@code *.edit.safetensors}); replaced if it exists
     * @throws IOException if writing fails; the file is then unchanged
     */
    public void save(Path file) throws IOException {
        EditFileChecks.header(KIND, VERSION, changeId, layer, weightName, modelFingerprint, hyperparametersJson,
                        provenance)
                .metadata("request", new GsonBuilder().disableHtmlEscaping().create()
                        .toJson(EditFileChecks.requestJson(request)))
                .metadata(EditFileChecks.U_SHA256, EditFileChecks.checksum(u))
                .metadata(EditFileChecks.R_SHA256, EditFileChecks.checksum(r))
                .addFloats("u", u, u.length)
                .addFloats("r", r, r.length)
                .write(file);
    }

    /**
     * Reads an edit file.
     *
     * @param file an edit file written by {@link #save(Path)}
     * @return the edit, its checksums, version, layer and weight name verified
     * @throws CheckpointFormatException if the file is not a refact edit file or a field is missing or invalid
     * @throws IOException               if the file cannot be read
     */
    public static SavedEdit load(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            Map<String, String> meta = sf.metadata();
            EditFileChecks.requireHeader(file, meta, KIND, "edit file", "change_id", "layer", "weight",
                    "model_fingerprint", "request", "hyperparameters", "provenance");
            EditFileChecks.checkVersion(file, meta, "edit file", EditFileChecks.KNOWN_VERSIONS);
            for (String t : new String[] {"u", "r"}) {
                if (!sf.contains(t)) {
                    throw new CheckpointFormatException(file, t, "missing");
                }
                TensorInfo info = sf.info(t);
                if (info.dtype() != DType.F32 || info.shape().length != 1) {
                    throw new CheckpointFormatException(file, t, "must be a 1-D F32 tensor, got " + info.dtype() + " "
                            + Arrays.toString(info.shape()));
                }
            }
            float[] uu = sf.readFloats("u");
            float[] rr = sf.readFloats("r");
            EditFileChecks.check(file, meta, uu, rr);
            try {
                EditRequest request = EditFileChecks.request(JsonParser.parseString(meta.get("request"))
                        .getAsJsonObject());
                return new SavedEdit(meta.get("change_id"), Integer.parseInt(meta.get("layer")), meta.get("weight"),
                        uu, rr, meta.get("model_fingerprint"), request,
                        meta.get("hyperparameters"), EditProvenance.fromJson(meta.get("provenance")));
            } catch (RuntimeException e) {
                throw new CheckpointFormatException(file, "invalid edit metadata: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Applies the edit to {@code model} ({@code W ← W + r uᵀ}), journalled under {@link #changeId()} so that
     * {@code model.undo(changeId())} removes it bit-exactly.
     *
     * @param model the text encoder
     * @param force apply even when the model's fingerprint differs from the one the edit was made on, or the update
     *              is implausibly large (NaN/Inf results are refused regardless, after undoing the change)
     * @return a handle whose {@link AppliedEdit#undo()} removes the change bit for bit
     * @throws IllegalStateException    if this edit is already applied to the model ("already applied"), on a
     *                                  fingerprint mismatch (without force), if the model is being edited by
     *                                  another thread, if the model is closed, if the update is implausibly large
     *                                  (without force), or if the encoder would produce NaN/Inf
     * @throws IllegalArgumentException if the model has no such weight or the shapes differ
     */
    public AppliedEdit apply(ClipTextModel model, boolean force) {
        if (model.appliedChanges().contains(changeId)) {
            throw new IllegalStateException("edit " + changeId + " (\"" + request.prompt() + "\" → \""
                    + request.target() + "\") is already applied to this model"
                    + (model.changes().contains(changeId) ? "" : " (it was saved with the weights)"));
        }
        if (!force && !model.fingerprint().equals(modelFingerprint)) {
            throw new IllegalStateException("edit " + changeId + " (\"" + request.prompt() + "\" → \"" + request.target()
                    + "\") was computed on weights with fingerprint " + EditFileChecks.shortFingerprint(modelFingerprint)
                    + " but this model's weights are " + EditFileChecks.shortFingerprint(model.fingerprint())
                    + (model.changes().isEmpty() ? "" : " (after changes " + model.changes() + ")")
                    + "; apply the edits in the order they were made, or force it");
        }
        EditChecks.plausibleMagnitude(this, model, force);
        try (PointerScope scope = new PointerScope()) {
            Tensor rt = Tensors.floats(r, model.device(), r.length);
            Tensor ut = Tensors.floats(u, model.device(), u.length);
            model.applyRankOneUpdate(weightName, rt, ut, changeId);
        }
        EditChecks.encoderStaysFinite(model, changeId);
        return new SavedEditApplication(changeId, layer, weightName, String.valueOf(request), model);
    }

    /**
     * u [i] (a copy).
     *
     * @return a new float32 array of length i
     */
    @Override
    public float[] u() {
        return u.clone();
    }

    /**
     * r [d] (a copy).
     *
     * @return a new float32 array of length d
     */
    @Override
    public float[] r() {
        return r.clone();
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof SavedEdit s && s.changeId.equals(changeId) && s.layer == layer
                && s.weightName.equals(weightName) && Arrays.equals(s.u, u) && Arrays.equals(s.r, r)
                && s.modelFingerprint.equals(modelFingerprint) && s.request.equals(request)
                && s.hyperparametersJson.equals(hyperparametersJson) && s.provenance.equals(provenance);
    }

    @Override
    public int hashCode() {
        return Objects.hash(changeId, layer, weightName, Arrays.hashCode(u), Arrays.hashCode(r));
    }

    @Override
    public String toString() {
        return "SavedEdit[" + changeId + ", layer " + layer + ", " + weightName + ", u[" + u.length + "], r[" + r.length
                + "], " + request + "]";
    }
}
