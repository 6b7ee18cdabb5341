package dev.refact.core;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Objects;

/**
 * Where an edit came from, recorded in every edit file (Tribuo-style provenance).
 *
 * @param modelFingerprint fingerprint of the weights the edit was computed on ({@code ClipTextModel.fingerprint()})
 * @param modelSource      folder name (never an absolute path: one is reduced to its last element) or generator
 *                         the model was loaded from
 * @param statisticsId     identifier of the covariance statistics used
 * @param libraryVersion   refact-java version
 * @param runtime          native runtime description (libtorch version, platform, threads)
 * @param createdAt        ISO-8601 instant
 */
public record EditProvenance(String modelFingerprint, String modelSource, String statisticsId, String libraryVersion,
                             String runtime, String createdAt) {
    /**
     * Rejects nulls.
     *
     * @param modelFingerprint fingerprint of the weights the edit was computed on
     * @param modelSource      where the model was loaded from; an absolute path is reduced to its last element
     * @param statisticsId     identifier of the covariance statistics used
     * @param libraryVersion   refact-java version
     * @param runtime          native runtime description
     * @param createdAt        ISO-8601 instant
     * @throws NullPointerException if any component is null
     */
    public EditProvenance {
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(modelSource, "modelSource");
        Objects.requireNonNull(statisticsId, "statisticsId");
        Objects.requireNonNull(libraryVersion, "libraryVersion");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(createdAt, "createdAt");
        modelSource = EditFileChecks.shareableSource(modelSource); // no absolute local paths in shareable files
    }

    /**
     * The library version from the jar manifest, or the development version.
     *
     * @return the manifest's {@code Implementation-Version}, or {@code 0.1.0-SNAPSHOT} when run from classes
     */
    public static String currentLibraryVersion() {
        String v = EditProvenance.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }

    /**
     * JSON object text.
     *
     * @return a one-line JSON object with keys {@code model_fingerprint}, {@code model_source}, {@code statistics},
     *         {@code library_version}, {@code runtime} and {@code created_at}
     */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("model_fingerprint", modelFingerprint);
        o.addProperty("model_source", modelSource);
        o.addProperty("statistics", statisticsId);
        o.addProperty("library_version", libraryVersion);
        o.addProperty("runtime", runtime);
        o.addProperty("created_at", createdAt);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(o);
    }

    /**
     * Parses {@link #toJson()}.
     *
     * @param json JSON object text as written by {@link #toJson()}
     * @return the provenance (its model source reduced as by the constructor)
     * @throws IllegalArgumentException for invalid JSON or a missing field
     */
    public static EditProvenance fromJson(String json) {
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            return new EditProvenance(o.get("model_fingerprint").getAsString(), o.get("model_source").getAsString(),
                    o.get("statistics").getAsString(), o.get("library_version").getAsString(),
                    o.get("runtime").getAsString(), o.get("created_at").getAsString());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid edit provenance JSON: " + e.getMessage(), e);
        }
    }
}
