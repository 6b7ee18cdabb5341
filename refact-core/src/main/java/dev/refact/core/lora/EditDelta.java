package dev.refact.core.lora;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.core.EditResult;
import dev.refact.core.SavedEdit;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The weight change of one edit file: {@code ΔW = Σ_i r_i u_iᵀ} on the weight {@code weightName}
 * [d_out, d_in]. A single edit has one row; a joint edit has n rows.
 *
 * @param source     where it came from (file name or change id), for messages and provenance
 * @param changeId   change id of the edit (or the file's path when the file has none)
 * @param layer      edited layer
 * @param weightName checkpoint name of the edited weight, e.g. {@code text_model.encoder.layers.7.mlp.fc2.weight}
 * @param u          n rows of length d_in (the keys' directions)
 * @param r          n rows of length d_out (the value updates)
 */
public record EditDelta(String source, String changeId, int layer, String weightName, float[][] u, float[][] r) {
    /** {@code refact.kind} of single edit files. */
    public static final String KIND_EDIT = dev.refact.core.SavedEdit.KIND;
    /** {@code refact.kind} of joint edit files. */
    public static final String KIND_JOINT = dev.refact.core.SavedJointEdit.KIND;

    /**
     * Deep-copies and checks the rows.
     *
     * @param source     where it came from, for messages and provenance (not null)
     * @param changeId   change id of the edit (not null)
     * @param layer      edited layer
     * @param weightName checkpoint name of the edited weight, ending in {@code .weight} (not null)
     * @param u          n ≥ 1 rows of equal length d_in ≥ 1, finite (copied)
     * @param r          n rows of equal length d_out ≥ 1, finite (copied)
     * @throws IllegalArgumentException for no rows, rows of unequal length, a count mismatch, a weight name that
     *                                  is not a {@code .weight}, or non-finite values
     */
    public EditDelta {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(changeId, "changeId");
        Objects.requireNonNull(weightName, "weightName");
        if (!weightName.endsWith(".weight")) {
            throw new IllegalArgumentException(source + ": edited tensor '" + weightName + "' is not a .weight");
        }
        if (u.length == 0 || u.length != r.length) {
            throw new IllegalArgumentException(source + ": " + u.length + " u rows and " + r.length + " r rows");
        }
        u = copyRows(source, "u", u);
        r = copyRows(source, "r", r);
    }

    private static float[][] copyRows(String source, String what, float[][] rows) {
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != rows[0].length || rows[i].length == 0) {
                throw new IllegalArgumentException(source + ": " + what + " rows have unequal or zero lengths");
            }
            for (float x : rows[i]) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException(source + ": " + what + " row " + i + " has non-finite values");
                }
            }
            out[i] = rows[i].clone();
        }
        return out;
    }

    /**
     * The delta of a saved edit (one row).
     *
     * @param edit a saved edit
     * @return its delta, rank 1, with the edit's change id as both source and change id
     */
    public static EditDelta of(SavedEdit edit) {
        return new EditDelta(edit.changeId(), edit.changeId(), edit.layer(), edit.weightName(),
                new float[][] {edit.u()}, new float[][] {edit.r()});
    }

    /**
     * The delta of an edit just made (one row).
     *
     * @param result the result of an edit
     * @return its delta, rank 1, with the edit's change id as both source and change id
     */
    public static EditDelta of(EditResult result) {
        return new EditDelta(result.changeId(), result.changeId(), result.layer(), result.weightName(),
                new float[][] {result.u()}, new float[][] {result.r()});
    }

    /**
     * Reads an edit file at the safetensors level: {@code refact.kind = edit} (tensors {@code u} F32 [d_in],
     * {@code r} F32 [d_out]) or {@code joint_edit} ({@code u} F32 [n, d_in], {@code r} F32 [n, d_out]), with
     * metadata {@code layer} and {@code weight}; either kind may hold 1-D (one row) or 2-D tensors.
     *
     * @param file an edit or joint edit {@code .safetensors} file
     * @return its delta; source is the file's path, change id the metadata {@code change_id} (the path when absent)
     * @throws CheckpointFormatException naming the file and the problem when it is neither kind, malformed, or
     *                                   {@code u}/{@code r} do not match the checksums the file records
     * @throws IOException               if the file cannot be read
     */
    public static EditDelta read(Path file) throws IOException {
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            Map<String, String> meta = sf.metadata();
            String kind = meta.get("refact.kind");
            if (!KIND_EDIT.equals(kind) && !KIND_JOINT.equals(kind)) {
                throw new CheckpointFormatException(file, "not a refact edit file (metadata refact.kind is "
                        + kind + ", expected edit or joint_edit)");
            }
            for (String key : new String[] {"layer", "weight"}) {
                if (!meta.containsKey(key)) {
                    throw new CheckpointFormatException(file, "edit file lacks metadata '" + key + "'");
                }
            }
            int layer;
            try {
                layer = Integer.parseInt(meta.get("layer"));
            } catch (NumberFormatException e) {
                throw new CheckpointFormatException(file, "metadata layer '" + meta.get("layer") + "' is not a number");
            }
            long[][] shapes = new long[2][];
            String[] names = {"u", "r"};
            for (int t = 0; t < 2; t++) {
                if (!sf.contains(names[t])) {
                    throw new CheckpointFormatException(file, names[t], "missing");
                }
                TensorInfo info = sf.info(names[t]);
                shapes[t] = info.shape();
                if (info.dtype() != DType.F32 || shapes[t].length < 1 || shapes[t].length > 2) {
                    throw new CheckpointFormatException(file, names[t], "must be an F32 tensor [d] or [n, d], got "
                            + info.dtype() + " " + Arrays.toString(shapes[t]));
                }
            }
            if (shapes[0].length != shapes[1].length) {
                throw new CheckpointFormatException(file, "u " + Arrays.toString(shapes[0]) + " and r "
                        + Arrays.toString(shapes[1]) + " must both be [d] or both [n, d]");
            }
            int n = shapes[0].length == 2 ? (int) shapes[0][0] : 1;
            if (shapes[0].length == 2 && shapes[1][0] != n) {
                throw new CheckpointFormatException(file, "u has " + n + " rows but r has " + shapes[1][0]);
            }
            float[] uFlat = sf.readFloats("u");
            float[] rFlat = sf.readFloats("r");
            // the checksums the library writes into edit files (u_sha256, r_sha256): a damaged or hand-edited
            // file is refused here as SavedEdit.load / SavedJointEdit.load refuse it
            String[] sums = {"u_sha256", "r_sha256"};
            float[][] flats = {uFlat, rFlat};
            for (int t = 0; t < 2; t++) {
                String want = meta.get(sums[t]);
                if (want != null && !want.equals(dev.refact.clip.io.Sha256.ofFloats(flats[t]))) {
                    throw new CheckpointFormatException(file, names[t], "does not match its checksum " + sums[t]
                            + " (the file was changed after it was written)");
                }
            }
            float[][] u = rows(uFlat, n);
            float[][] r = rows(rFlat, n);
            String changeId = meta.getOrDefault("change_id", file.toString());
            try {
                return new EditDelta(file.toString(), changeId, layer, meta.get("weight"), u, r);
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, e.getMessage());
            }
        }
    }

    private static float[][] rows(float[] flat, int n) {
        int len = n == 0 ? 0 : flat.length / n;
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = Arrays.copyOfRange(flat, i * len, (i + 1) * len);
        }
        return out;
    }

    /**
     * Number of rows n (the rank this edit contributes).
     *
     * @return n ≥ 1
     */
    public int rank() {
        return u.length;
    }

    /**
     * d_in, the length of the u rows.
     *
     * @return the input width of the weight (its column count)
     */
    public int inFeatures() {
        return u[0].length;
    }

    /**
     * d_out, the length of the r rows.
     *
     * @return the output width of the weight (its row count)
     */
    public int outFeatures() {
        return r[0].length;
    }

    /**
     * Row {@code i} of u (a copy), [d_in].
     *
     * @param i row index, 0 ≤ i &lt; {@link #rank()}
     * @return a new array of length d_in
     * @throws ArrayIndexOutOfBoundsException if {@code i} is out of range
     */
    public float[] u(int i) {
        return u[i].clone();
    }

    /**
     * Row {@code i} of r (a copy), [d_out].
     *
     * @param i row index, 0 ≤ i &lt; {@link #rank()}
     * @return a new array of length d_out
     * @throws ArrayIndexOutOfBoundsException if {@code i} is out of range
     */
    public float[] r(int i) {
        return r[i].clone();
    }

    /**
     * The u rows (a deep copy), n × [d_in].
     *
     * @return new arrays, safe to modify
     */
    @Override
    public float[][] u() {
        return copyRows(source, "u", u);
    }

    /**
     * The r rows (a deep copy), n × [d_out].
     *
     * @return new arrays, safe to modify
     */
    @Override
    public float[][] r() {
        return copyRows(source, "r", r);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EditDelta d && d.source.equals(source) && d.changeId.equals(changeId) && d.layer == layer
                && d.weightName.equals(weightName) && Arrays.deepEquals(d.u, u) && Arrays.deepEquals(d.r, r);
    }

    @Override
    public int hashCode() {
        return Objects.hash(changeId, layer, weightName, Arrays.deepHashCode(u), Arrays.deepHashCode(r));
    }

    @Override
    public String toString() {
        return "EditDelta[" + changeId + ", " + weightName + ", rank " + u.length + ", " + outFeatures() + "x"
                + inFeatures() + "]";
    }
}
