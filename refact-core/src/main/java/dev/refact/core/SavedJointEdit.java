package dev.refact.core;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A joint edit as a portable file: a safetensors file with metadata {@code refact.kind = joint_edit},
 * {@code refact.edit_version}, {@code change_id}, {@code layer}, {@code weight}, {@code model_fingerprint},
 * {@code requests} (a JSON array, one object per row: prompt, subject, source, target, role {@code edit} or
 * {@code protected}, change_id, steps, stop_reason, p_target, residual), {@code hyperparameters},
 * {@code provenance}, {@code condition_number}, {@code ridge}, and the checksums {@code u_sha256} and
 * {@code r_sha256} (SHA-256 of the row-major little-endian float32 bytes, as in single edit files), and F32 tensors
 * {@code u} [n,d_in], {@code r} [n,d_out], {@code k_bar} [n,d_in], {@code k_b} [n,d_in], {@code v_star} [n,d_out].
 * The weight change is {@code ΔW = Σ_i r_i u_iᵀ} (n rows: the requests, then any protected earlier keys). The same
 * contract is read by the LoRA exporter.
 *
 * @param changeId            unique id of the change
 * @param layer               edited layer
 * @param weightName          checkpoint name of the edited weight
 * @param u                   [n][d_in] directions
 * @param r                   [n][d_out] update vectors
 * @param kBar                [n][d_in] mean template keys
 * @param kBare               [n][d_in] bare-subject keys
 * @param vStar               [n][d_out] values the rows hold after the edit
 * @param modelFingerprint    fingerprint of the weights the edit was computed on
 * @param rows                per-row provenance, n entries
 * @param hyperparametersJson hyperparameters as JSON
 * @param conditionNumber     condition number of the joint system
 * @param ridge               ridge λ (0 = exact)
 * @param provenance          provenance
 */
public record SavedJointEdit(String changeId, int layer, String weightName, float[][] u, float[][] r, float[][] kBar,
                             float[][] kBare, float[][] vStar, String modelFingerprint, List<Row> rows,
                             String hyperparametersJson, double conditionNumber, double ridge,
                             EditProvenance provenance) {
    /** Metadata value of {@code refact.kind} in joint edit files. */
    public static final String KIND = "joint_edit";
    /** Format version written in {@code refact.edit_version}. */
    public static final String VERSION = "1";

    /** Whether a row is one of the edit's requests or an earlier edit kept fixed. */
    public enum Role {
        /** A request of this edit. */
        EDIT,
        /** An earlier edit's key whose output this edit keeps fixed. */
        PROTECTED
    }

    /**
     * Provenance of one row.
     *
     * @param request           the request
     * @param role              edit or protected
     * @param changeId          the change that made the request (this edit's id for its own rows)
     * @param steps             Adam steps of its v* search (0 for protected rows)
     * @param stopReason        {@code converged} / {@code step_cap} (empty for protected rows)
     * @param targetProbability final mean p(target) (NaN for protected rows)
     * @param residual          relative residual after the edit (NaN for protected rows)
     */
    public record Row(EditRequest request, Role role, String changeId, int steps, String stopReason,
                      double targetProbability, double residual) {
        /**
         * Checks the fields.
         *
         * @param request           the request, not null
         * @param role              edit or protected, not null
         * @param changeId          the change that made the request, not null
         * @param steps             Adam steps of its v* search (0 for protected rows)
         * @param stopReason        lower-case {@link StopReason} name, or empty for protected rows; not null
         * @param targetProbability final mean p(target), or NaN
         * @param residual          relative residual after the edit, or NaN
         * @throws NullPointerException if an object component is null
         */
        public Row {
            Objects.requireNonNull(request, "request");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(changeId, "changeId");
            Objects.requireNonNull(stopReason, "stopReason");
        }
    }

    /**
     * Copies the arrays and checks that the shapes agree and every value is finite.
     *
     * @param changeId            unique id of the change, not null
     * @param layer               edited layer
     * @param weightName          checkpoint name of the edited weight, not null
     * @param u                   [n][d_in] directions, finite (copied)
     * @param r                   [n][d_out] update vectors, finite (copied)
     * @param kBar                [n][d_in] mean template keys, finite (copied)
     * @param kBare               [n][d_in] bare-subject keys, finite (copied)
     * @param vStar               [n][d_out] values the rows hold after the edit, finite (copied)
     * @param modelFingerprint    fingerprint of the weights the edit was computed on, not null
     * @param rows                per-row provenance, at least one; its size n fixes the arrays' row count (copied)
     * @param hyperparametersJson hyperparameters as JSON ({@link Hyperparameters#toJson()}), not null
     * @param conditionNumber     condition number of the joint system (NaN if unknown)
     * @param ridge               ridge λ (0 = exact)
     * @param provenance          provenance, not null
     * @throws NullPointerException     if an object component is null
     * @throws IllegalArgumentException if there are no rows, or naming the tensor with a wrong shape or a non-finite
     *                                  value
     */
    public SavedJointEdit {
        Objects.requireNonNull(changeId, "changeId");
        Objects.requireNonNull(weightName, "weightName");
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(hyperparametersJson, "hyperparametersJson");
        Objects.requireNonNull(provenance, "provenance");
        rows = List.copyOf(rows);
        int n = rows.size();
        if (n == 0) {
            throw new IllegalArgumentException("joint edit " + changeId + " has no rows");
        }
        u = checked("u", u, n, -1);
        int in = u[0].length;
        r = checked("r", r, n, -1);
        int out = r[0].length;
        kBar = checked("k_bar", kBar, n, in);
        kBare = checked("k_b", kBare, n, in);
        vStar = checked("v_star", vStar, n, out);
    }

    private static float[][] checked(String name, float[][] a, int n, int width) {
        if (a.length != n) {
            throw new IllegalArgumentException("joint edit tensor " + name + " has " + a.length + " rows, expected " + n);
        }
        float[][] c = new float[n][];
        int w = width < 0 ? a[0].length : width;
        for (int i = 0; i < n; i++) {
            if (a[i].length != w || w == 0) {
                throw new IllegalArgumentException("joint edit tensor " + name + " row " + i + " has " + a[i].length
                        + " values, expected " + w);
            }
            for (float x : a[i]) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("joint edit tensor " + name + " row " + i + " is not finite");
                }
            }
            c[i] = a[i].clone();
        }
        return c;
    }

    /**
     * The requests of role {@link Role#EDIT}, in order.
     *
     * @return an unmodifiable list of the edit's own requests (protected rows left out)
     */
    public List<EditRequest> requests() {
        return rows.stream().filter(x -> x.role() == Role.EDIT).map(Row::request).toList();
    }

    /**
     * Writes the file atomically.
     *
     * @param file the file to write; replaced if it exists
     * @throws IOException if writing fails; the file is then unchanged
     */
    public void save(Path file) throws IOException {
        JsonArray reqs = new JsonArray();
        for (Row row : rows) {
            JsonObject o = EditFileChecks.requestJson(row.request());
            o.addProperty("role", row.role().name().toLowerCase(Locale.ROOT));
            o.addProperty("change_id", row.changeId());
            o.addProperty("steps", row.steps());
            o.addProperty("stop_reason", row.stopReason());
            if (Double.isFinite(row.targetProbability())) {
                o.addProperty("p_target", row.targetProbability());
            }
            if (Double.isFinite(row.residual())) {
                o.addProperty("residual", row.residual());
            }
            reqs.add(o);
        }
        int n = rows.size();
        float[] uFlat = JointUpdate.flatten(u);
        float[] rFlat = JointUpdate.flatten(r);
        EditFileChecks.header(KIND, VERSION, changeId, layer, weightName, modelFingerprint, hyperparametersJson,
                        provenance)
                .metadata("requests", new GsonBuilder().disableHtmlEscaping().create().toJson(reqs))
                .metadata("condition_number", Double.toString(conditionNumber))
                .metadata("ridge", Double.toString(ridge))
                .metadata(EditFileChecks.U_SHA256, EditFileChecks.checksum(uFlat))
                .metadata(EditFileChecks.R_SHA256, EditFileChecks.checksum(rFlat))
                .addFloats("u", uFlat, n, u[0].length)
                .addFloats("r", rFlat, n, r[0].length)
                .addFloats("k_bar", JointUpdate.flatten(kBar), n, kBar[0].length)
                .addFloats("k_b", JointUpdate.flatten(kBare), n, kBare[0].length)
                .addFloats("v_star", JointUpdate.flatten(vStar), n, vStar[0].length)
                .write(file);
    }

    /**
     * Whether {@code file} is a safetensors file whose metadata says {@code refact.kind = joint_edit}.
     *
     * @param file a safetensors file
     * @return true for a joint edit file, false for any other safetensors file (e.g. a single edit)
     * @throws IOException if the file cannot be read or is not a safetensors file
     */
    public static boolean isJointEditFile(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            return KIND.equals(sf.metadata().get("refact.kind"));
        }
    }

    /**
     * Reads a joint edit file.
     *
     * @param file a joint edit file written by {@link #save(Path)}
     * @return the joint edit, its version, layer and weight name and the checksums of {@code u} and {@code r}
     *         verified (as {@link SavedEdit#load(Path)} does)
     * @throws CheckpointFormatException if the file is not a joint edit file, its version is unknown, its
     *                                   {@code layer} and {@code weight} disagree, a checksum is missing or does not
     *                                   match (damaged or modified file), or a field or tensor is missing or invalid
     *                                   (the message names the file and the field or tensor)
     * @throws IOException               if the file cannot be read
     */
    public static SavedJointEdit load(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            Map<String, String> meta = sf.metadata();
            EditFileChecks.requireHeader(file, meta, KIND, "joint edit file", "change_id", "layer", "weight",
                    "model_fingerprint", "requests", "hyperparameters", "provenance");
            EditFileChecks.checkVersion(file, meta, "joint edit file", EditFileChecks.KNOWN_JOINT_VERSIONS);
            float[][][] t = new float[5][][];
            float[][] flats = new float[5][];
            String[] names = {"u", "r", "k_bar", "k_b", "v_star"};
            for (int i = 0; i < names.length; i++) {
                String name = names[i];
                if (!sf.contains(name)) {
                    throw new CheckpointFormatException(file, name, "missing");
                }
                TensorInfo info = sf.info(name);
                long[] shape = info.shape();
                if (info.dtype() != DType.F32 || shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
                    throw new CheckpointFormatException(file, name, "must be a 2-D F32 tensor [n, d], got "
                            + info.dtype() + " " + Arrays.toString(shape));
                }
                float[] flat = sf.readFloats(name);
                flats[i] = flat;
                float[][] rowsOf = new float[(int) shape[0]][];
                for (int j = 0; j < shape[0]; j++) {
                    rowsOf[j] = Arrays.copyOfRange(flat, (int) (j * shape[1]), (int) ((j + 1) * shape[1]));
                }
                t[i] = rowsOf;
            }
            EditFileChecks.check(file, meta, "joint edit file", EditFileChecks.KNOWN_JOINT_VERSIONS,
                    flats[0], flats[1]);
            try {
                List<Row> rows = new ArrayList<>();
                for (JsonElement e : JsonParser.parseString(meta.get("requests")).getAsJsonArray()) {
                    JsonObject o = e.getAsJsonObject();
                    EditRequest req = EditFileChecks.request(o);
                    rows.add(new Row(req, Role.valueOf(o.get("role").getAsString().toUpperCase(Locale.ROOT)),
                            o.get("change_id").getAsString(), o.get("steps").getAsInt(),
                            o.get("stop_reason").getAsString(),
                            o.has("p_target") ? o.get("p_target").getAsDouble() : Double.NaN,
                            o.has("residual") ? o.get("residual").getAsDouble() : Double.NaN));
                }
                return new SavedJointEdit(meta.get("change_id"), Integer.parseInt(meta.get("layer")), meta.get("weight"),
                        t[0], t[1], t[2], t[3], t[4], meta.get("model_fingerprint"), rows, meta.get("hyperparameters"),
                        Double.parseDouble(meta.getOrDefault("condition_number", "NaN")),
                        Double.parseDouble(meta.getOrDefault("ridge", "0")),
                        EditProvenance.fromJson(meta.get("provenance")));
            } catch (RuntimeException e) {
                throw new CheckpointFormatException(file, "invalid joint edit: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Applies the edit ({@code W ← W + Σ_i r_i u_iᵀ}) under {@link #changeId()}, with the editor's arithmetic, so
     * the weights equal the edited model's bit for bit; {@code model.undo(changeId())} removes it bit-exactly.
     *
     * @param model the model to change
     * @param force apply even when the model's fingerprint differs from the one the edit was made on, or the update
     *              is implausibly large (NaN/Inf results are refused regardless, after undoing the change)
     * @return the undoable handle (like {@link EditResult})
     * @throws IllegalStateException    if this edit is already applied to the model ("already applied", checked
     *                                  first, as {@link SavedEdit#apply} does), on a fingerprint mismatch (without
     *                                  force), if the update is implausibly large (without force), or if the
     *                                  encoder would produce NaN/Inf
     * @throws IllegalArgumentException if the model has no such weight or the shapes differ; weights unchanged
     */
    public AppliedEdit apply(ClipTextModel model, boolean force) {
        if (model.appliedChanges().contains(changeId)) {
            throw new IllegalStateException("edit " + changeId + " is already applied to this model"
                    + (model.changes().contains(changeId) ? "" : " (it was saved with the weights)"));
        }
        if (!force && !model.fingerprint().equals(modelFingerprint)) {
            throw new IllegalStateException("joint edit " + changeId + " (" + rows.size() + " rows, first \""
                    + rows.get(0).request().prompt() + "\") was computed on weights with fingerprint "
                    + EditFileChecks.shortFingerprint(modelFingerprint) + " but this model's weights are " + EditFileChecks.shortFingerprint(model.fingerprint())
                    + (model.changes().isEmpty() ? "" : " (after changes " + model.changes() + ")")
                    + "; apply the edits in the order they were made, or force it");
        }
        EditChecks.plausibleMagnitude(changeId, weightName, u, r, model, force);
        Tensor w = model.parameter(weightName);
        long[] ws = Tensors.shape(w);
        if (ws.length != 2 || ws[0] != r[0].length || ws[1] != u[0].length) {
            throw new IllegalArgumentException("joint edit " + changeId + " changes '" + weightName + "' as ["
                    + r[0].length + ", " + u[0].length + "] but the model's is " + Arrays.toString(ws));
        }
        JointUpdate.apply(model, weightName, r, u, changeId);
        EditChecks.encoderStaysFinite(model, changeId);
        return new SavedEditApplication(changeId, layer, weightName, rows.size() + " rows, first \""
                + rows.get(0).request().prompt() + "\"", model);
    }

    /**
     * u [n][d_in] (a deep copy).
     *
     * @return new arrays; changing them does not change this edit
     */
    @Override
    public float[][] u() {
        return JointUpdate.copy(u);
    }

    /**
     * r [n][d_out] (a deep copy).
     *
     * @return new arrays; changing them does not change this edit
     */
    @Override
    public float[][] r() {
        return JointUpdate.copy(r);
    }

    /**
     * k̄ [n][d_in] (a deep copy).
     *
     * @return new arrays; changing them does not change this edit
     */
    @Override
    public float[][] kBar() {
        return JointUpdate.copy(kBar);
    }

    /**
     * k_b [n][d_in] (a deep copy).
     *
     * @return new arrays; changing them does not change this edit
     */
    @Override
    public float[][] kBare() {
        return JointUpdate.copy(kBare);
    }

    /**
     * v* [n][d_out] (a deep copy).
     *
     * @return new arrays; changing them does not change this edit
     */
    @Override
    public float[][] vStar() {
        return JointUpdate.copy(vStar);
    }



    @Override
    public boolean equals(Object o) {
        return o instanceof SavedJointEdit s && s.changeId.equals(changeId) && s.layer == layer
                && s.weightName.equals(weightName) && Arrays.deepEquals(s.u, u) && Arrays.deepEquals(s.r, r)
                && Arrays.deepEquals(s.kBar, kBar) && Arrays.deepEquals(s.kBare, kBare)
                && Arrays.deepEquals(s.vStar, vStar) && s.modelFingerprint.equals(modelFingerprint)
                && s.rows.equals(rows) && s.hyperparametersJson.equals(hyperparametersJson)
                && Double.compare(s.conditionNumber, conditionNumber) == 0 && Double.compare(s.ridge, ridge) == 0
                && s.provenance.equals(provenance);
    }

    @Override
    public int hashCode() {
        return Objects.hash(changeId, layer, weightName, Arrays.deepHashCode(u), Arrays.deepHashCode(r));
    }

    @Override
    public String toString() {
        return "SavedJointEdit[" + changeId + ", layer " + layer + ", " + weightName + ", " + rows.size() + " rows ["
                + u[0].length + " → " + r[0].length + "]]";
    }
}
