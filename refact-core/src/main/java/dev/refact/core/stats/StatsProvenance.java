package dev.refact.core.stats;

import java.util.Objects;

/**
 * Where covariance statistics came from, recorded with the statistics file and with every edit made
 * with them.
 *
 * @param modelFingerprint fingerprint of the weights the keys were computed with (or "unknown")
 * @param layer            layer of the fc2 inputs
 * @param corpus           corpus name (file name, or "imported:..." for statistics imported from an {@code .npz})
 * @param corpusSha256     SHA-256 (hex) of the texts actually used (see {@link CovarianceStats#compute}); for
 *                         imported statistics the SHA-256 of the imported file; "" when unknown
 * @param count            number of keys (tokens) averaged
 * @param dtype            accumulation dtype ({@code float64} here; {@code float32} for imported ROME statistics)
 * @param texts            number of texts the keys came from, 0 when unknown
 * @param maxTokens        tokens per text at most (start and end included), 0 when unknown
 */
public record StatsProvenance(String modelFingerprint, int layer, String corpus, String corpusSha256, long count,
                              String dtype, long texts, int maxTokens) {
    /** Validates that no field is null and the numbers are sane. */
    public StatsProvenance {
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(corpusSha256, "corpusSha256");
        Objects.requireNonNull(dtype, "dtype");
        if (layer < 0 || count < 0 || texts < 0 || maxTokens < 0) {
            throw new IllegalArgumentException("layer, count, texts and maxTokens must be >= 0, got layer=" + layer
                    + " count=" + count + " texts=" + texts + " maxTokens=" + maxTokens);
        }
    }

    /** Provenance without text count and token cut (both recorded as unknown, 0). */
    public StatsProvenance(String modelFingerprint, int layer, String corpus, String corpusSha256, long count,
                           String dtype) {
        this(modelFingerprint, layer, corpus, corpusSha256, count, dtype, 0, 0);
    }

    /** A short identifier: corpus, hash prefix, count, layer. */
    public String id() {
        String hash = corpusSha256.isEmpty() ? "" : "@" + corpusSha256.substring(0, Math.min(12, corpusSha256.length()));
        return corpus + hash + "/n=" + count + "/layer=" + layer;
    }
}
