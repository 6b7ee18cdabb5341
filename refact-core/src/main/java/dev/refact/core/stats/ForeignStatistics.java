package dev.refact.core.stats;

import dev.refact.clip.ClipTextModel;

/**
 * Statistics belong to one model: C = E[k kᵀ] of another model's keys gives a wrong update. The provenance of
 * every statistics file names the fingerprint of the weights its keys came from; {@link #check} compares it with a
 * model's. Statistics that record no fingerprint (imported ones say {@code "unknown"}) pass.
 */
public final class ForeignStatistics {
    private ForeignStatistics() {
    }

    /**
     * Whether {@code stats} were computed on {@code model}'s weights (as loaded, or as they are now).
     *
     * @param stats the statistics
     * @param model the model an edit is about to change
     * @return true if the fingerprints agree or the statistics do not name one
     */
    public static boolean computedOn(CovarianceStats stats, ClipTextModel model) {
        return !recordsModel(stats) || stats.isFor(model.baseFingerprint()) || stats.isFor(model.fingerprint());
    }

    /**
     * Whether the statistics record the model they were computed on (a SHA-256 fingerprint); imported or older
     * statistics ({@code "unknown"}, blank) do not.
     *
     * @param stats the statistics
     * @return true if their provenance names a model fingerprint
     */
    public static boolean recordsModel(CovarianceStats stats) {
        String fp = stats.provenance().modelFingerprint();
        return fp != null && fp.matches("[0-9a-f]{64}");
    }

    /**
     * Refuses statistics computed on another model.
     *
     * @param stats the statistics
     * @param model the model
     * @param where what to call the statistics in the message (a file name, say)
     * @param flag  the override to mention (e.g. {@code "--allow-foreign-stats"}), or null
     * @throws IllegalArgumentException naming both fingerprints
     */
    public static void check(CovarianceStats stats, ClipTextModel model, String where, String flag) {
        if (!computedOn(stats, model)) {
            throw new IllegalArgumentException(where + " were computed on another model (fingerprint "
                    + abbreviate(stats.provenance().modelFingerprint()) + ", this model is "
                    + abbreviate(model.baseFingerprint()) + "); an edit with them would be wrong"
                    + (flag == null ? "" : " (" + flag + " uses them anyway)"));
        }
    }

    private static String abbreviate(String fp) {
        return fp.length() > 12 ? fp.substring(0, 12) + "…" : fp;
    }
}
