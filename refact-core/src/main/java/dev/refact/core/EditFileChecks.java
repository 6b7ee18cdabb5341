package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.Sha256;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Checks of an edit file's metadata against its tensors (docs/formats.md, "Edit files"): a known
 * {@code refact.edit_version}, a non-negative {@code layer} that agrees with {@code weight}, and SHA-256 content
 * checksums of {@code u} and {@code r} ({@code u_sha256}, {@code r_sha256}: of the little-endian float32 bytes)
 * so that a damaged or tampered file is refused; and the metadata every edit file kind shares, written
 * ({@link #header}) and checked ({@link #requireHeader}) in one place.
 */
final class EditFileChecks {
    /** Metadata key of u's checksum. */
    static final String U_SHA256 = "u_sha256";
    /** Metadata key of r's checksum. */
    static final String R_SHA256 = "r_sha256";
    /** Edit-file versions this library reads. */
    static final Set<String> KNOWN_VERSIONS = Set.of(SavedEdit.VERSION);
    /** Joint-edit-file versions this library reads. */
    static final Set<String> KNOWN_JOINT_VERSIONS = Set.of(SavedJointEdit.VERSION);

    private EditFileChecks() {
    }

    /** The checksum of a vector as written in {@code u_sha256} / {@code r_sha256}. */
    static String checksum(float[] v) {
        return Sha256.ofFloats(v);
    }

    /**
     * Checks a loaded edit file.
     *
     * @param file the file, for messages
     * @param meta its metadata
     * @param u    the tensor u as read
     * @param r    the tensor r as read
     * @throws CheckpointFormatException naming the file and the disagreement
     */
    static void check(Path file, Map<String, String> meta, float[] u, float[] r) throws CheckpointFormatException {
        check(file, meta, "edit file", KNOWN_VERSIONS, u, r);
    }

    /**
     * Checks a loaded edit file of any kind: its version, layer and weight, ids and the checksums of u and r (for a
     * joint edit file, of the row-major [n, d] tensors).
     *
     * @param file  the file, for messages
     * @param meta  its metadata
     * @param what  the file kind in messages ("edit file", "joint edit file")
     * @param known the versions of this kind this library reads
     * @param u     the tensor u as read (flattened)
     * @param r     the tensor r as read (flattened)
     * @throws CheckpointFormatException naming the file and the disagreement
     */
    static void check(Path file, Map<String, String> meta, String what, Set<String> known, float[] u, float[] r)
            throws CheckpointFormatException {
        checkVersion(file, meta, what, known);
        int layer;
        try {
            layer = Integer.parseInt(meta.get("layer").strip());
        } catch (NumberFormatException e) {
            throw new CheckpointFormatException(file, "metadata 'layer' is " + abbreviate(meta.get("layer"))
                    + ", not a layer number");
        }
        if (layer < 0) {
            throw new CheckpointFormatException(file, "metadata 'layer' is " + layer + "; layers are numbered from 0");
        }
        String expected = ClipTextModel.fc2WeightName(layer);
        if (!expected.equals(meta.get("weight"))) {
            throw new CheckpointFormatException(file, "metadata 'weight' " + abbreviate(meta.get("weight"))
                    + " disagrees with 'layer' " + layer + " (expected " + expected + ")");
        }
        if (u.length == 0 || r.length == 0) {
            throw new CheckpointFormatException(file, "u and r must not be empty (u[" + u.length + "], r["
                    + r.length + "])");
        }
        if (meta.get("change_id").isBlank() || meta.get("model_fingerprint").isBlank()) {
            throw new CheckpointFormatException(file, "metadata 'change_id' and 'model_fingerprint' must not be empty");
        }
        checkSum(file, meta, what, U_SHA256, "u", u);
        checkSum(file, meta, what, R_SHA256, "r", r);
    }

    /**
     * Checks {@code refact.edit_version} alone (before the tensors are read, so that a file of a newer format is
     * refused as such rather than for a tensor this version does not know).
     *
     * @param file  the file, for messages
     * @param meta  its metadata
     * @param what  the file kind in messages ("edit file", "joint edit file")
     * @param known the versions of this kind this library reads
     * @throws CheckpointFormatException naming the file and the version found (or its absence)
     */
    static void checkVersion(Path file, Map<String, String> meta, String what, Set<String> known)
            throws CheckpointFormatException {
        String version = meta.get("refact.edit_version");
        if (version == null) {
            throw new CheckpointFormatException(file, what + " lacks metadata 'refact.edit_version'");
        }
        if (!known.contains(version)) {
            throw new CheckpointFormatException(file, what + " version " + abbreviate(version)
                    + " is not one this refact reads (known: " + String.join(", ", known.stream().sorted()
                    .toList()) + "); use a newer refact");
        }
    }

    private static void checkSum(Path file, Map<String, String> meta, String what, String key, String tensor,
                                 float[] v) throws CheckpointFormatException {
        String want = meta.get(key);
        if (want == null) {
            throw new CheckpointFormatException(file, what + " lacks metadata '" + key + "' (the checksum of "
                    + tensor + "); files written before checksums were added must be made again");
        }
        if (!want.equalsIgnoreCase(checksum(v))) {
            throw new CheckpointFormatException(file, tensor, "content does not match its checksum " + key
                    + ": the file was damaged or modified");
        }
    }

    /**
     * A writer with the metadata every edit file carries: kind, format version, change id, layer, weight, the
     * fingerprint of the weights it was computed on, hyperparameters and provenance (JSON).
     */
    static dev.refact.clip.io.SafetensorsWriter header(String kind, String version, String changeId, int layer,
                                                       String weightName, String modelFingerprint,
                                                       String hyperparametersJson, EditProvenance provenance) {
        return new dev.refact.clip.io.SafetensorsWriter()
                .metadata("refact.kind", kind)
                .metadata("refact.edit_version", version)
                .metadata("change_id", changeId)
                .metadata("layer", Integer.toString(layer))
                .metadata("weight", weightName)
                .metadata("model_fingerprint", modelFingerprint)
                .metadata("hyperparameters", hyperparametersJson)
                .metadata("provenance", provenance.toJson());
    }

    /** A request as the JSON object edit files store: {@code prompt}, {@code subject}, {@code source}, {@code target}. */
    static com.google.gson.JsonObject requestJson(EditRequest r) {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("prompt", r.prompt());
        o.addProperty("subject", r.subject());
        o.addProperty("source", r.source());
        o.addProperty("target", r.target());
        return o;
    }

    /** The request stored as {@link #requestJson}. */
    static EditRequest request(com.google.gson.JsonObject o) {
        return new EditRequest(o.get("prompt").getAsString(), o.get("subject").getAsString(),
                o.get("source").getAsString(), o.get("target").getAsString());
    }

    /**
     * Checks the metadata every edit file carries: {@code refact.kind} and the required keys.
     *
     * @param what the file kind in messages ("edit file", "joint edit file")
     * @throws CheckpointFormatException naming the file and the missing key, or the kind found
     */
    static void requireHeader(Path file, Map<String, String> meta, String kind, String what, String... keys)
            throws CheckpointFormatException {
        if (!kind.equals(meta.get("refact.kind"))) {
            throw new CheckpointFormatException(file, "not a refact " + what + " (metadata refact.kind is "
                    + meta.get("refact.kind") + ")");
        }
        for (String key : keys) {
            if (!meta.containsKey(key)) {
                throw new CheckpointFormatException(file, what + " lacks metadata '" + key + "'");
            }
        }
    }

    /**
     * A source for the provenance of a shareable file: an absolute local path is reduced to its last element (the
     * folder or file name), so that edit files do not reveal local directory layouts.
     *
     * @param source a folder, file or generator description
     * @return the same text, or the last path element of an absolute path
     */
    static String shareableSource(String source) {
        if (source == null) {
            return null;
        }
        boolean absolute = source.startsWith("/") || source.startsWith("\\") || source.startsWith("~")
                || source.matches("^[A-Za-z]:[\\\\/].*");
        if (!absolute) {
            return source;
        }
        String s = source.replace('\\', '/');
        while (s.length() > 1 && s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        int slash = s.lastIndexOf('/');
        String last = slash >= 0 ? s.substring(slash + 1) : s;
        return last.isEmpty() ? "(local folder)" : last;
    }

    /** A fingerprint for messages: its first 12 hex digits and "…". */
    static String shortFingerprint(String fp) {
        return fp.length() > 12 ? fp.substring(0, 12) + "…" : fp;
    }

    private static String abbreviate(String s) {
        return dev.refact.clip.io.TextFiles.abbreviate(s, 80);
    }
}
