package dev.refact.core.stats;

import java.util.Objects;

/**
 * Where covariance statistics came from, recorded with the statistics file and with every edit made
 * with them.
 *
 * @param modelFingerprint fingerprint of the weights the keys were computed with (or "unknown")
 * @param layer            layer of the fc2 inputs
 * @param corpus           corpus name (file name, or "imported:...")
 * @param corpusSha256     SHA-256 of the corpus text as read, or "" when unknown
 * @param count            number of keys (tokens) averaged
 * @param dtype            accumulation dtype (float64 here; float32 in the Python code)
 */
public record StatsProvenance(String modelFingerprint, int layer, String corpus, String corpusSha256, long count,
                              String dtype) {
    /** Validates that no field is null and the numbers are sane. */
    public StatsProvenance {
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(corpusSha256, "corpusSha256");
        Objects.requireNonNull(dtype, "dtype");
        if (layer < 0 || count < 0) {
            throw new IllegalArgumentException("layer and count must be >= 0");
        }
    }

    /** A short identifier: corpus, hash prefix, count, layer. */
    public String id() {
        String hash = corpusSha256.isEmpty() ? "" : "@" + corpusSha256.substring(0, Math.min(12, corpusSha256.length()));
        return corpus + hash + "/n=" + count + "/layer=" + layer;
    }
}
