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
    /**
     * Validates that no field is null and the numbers are sane.
     *
     * @param modelFingerprint fingerprint of the weights the keys were computed with (not null)
     * @param layer            layer of the fc2 inputs, ≥ 0
     * @param corpus           corpus name (not null)
     * @param corpusSha256     SHA-256 (hex) of the texts used, "" when unknown (not null)
     * @param count            number of keys averaged, ≥ 0
     * @param dtype            accumulation dtype (not null)
     * @param texts            number of texts, ≥ 0 (0 when unknown)
     * @param maxTokens        tokens per text at most, ≥ 0 (0 when unknown)
     * @throws IllegalArgumentException if {@code layer}, {@code count}, {@code texts} or {@code maxTokens} is
     *                                  negative
     */
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

    /**
     * Provenance without text count and token cut (both recorded as unknown, 0).
     *
     * @param modelFingerprint fingerprint of the weights the keys were computed with
     * @param layer            layer of the fc2 inputs, ≥ 0
     * @param corpus           corpus name
     * @param corpusSha256     SHA-256 (hex) of the texts used, "" when unknown
     * @param count            number of keys averaged, ≥ 0
     * @param dtype            accumulation dtype
     */
    public StatsProvenance(String modelFingerprint, int layer, String corpus, String corpusSha256, long count,
                           String dtype) {
        this(modelFingerprint, layer, corpus, corpusSha256, count, dtype, 0, 0);
    }

    /**
     * A short identifier: corpus, hash prefix, count, layer.
     *
     * @return e.g. {@code wikitext-103@0123456789ab/n=1234567/layer=7} (no {@code @...} part when the hash is
     *         unknown)
     */
    public String id() {
        String hash = corpusSha256.isEmpty() ? "" : "@" + corpusSha256.substring(0, Math.min(12, corpusSha256.length()));
        return corpus + hash + "/n=" + count + "/layer=" + layer;
    }
}
