package dev.refact.core.stats;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How {@link CovarianceStats#compute} reads a corpus.
 *
 * <pre>{@code
 * StatsOptions options = StatsOptions.builder()
 *         .corpusName("wikitext-103-train")
 *         .sampleLimit(100_000)           // the paper's setting
 *         .maxTokens(60)                  // each text cut to 60 tokens, start and end included
 *         .checkpoint(Path.of("stats.partial.safetensors"))
 *         .build();
 * }</pre>
 *
 * @param batchSize       texts per forward pass (padded to the batch's longest text; padding never counts)
 * @param maxTokens       tokens per text at most, start and end included (the end token is kept last);
 *                        2 ≤ maxTokens ≤ the model's positions
 * @param sampleLimit     texts to use at most (blank lines are skipped and do not count)
 * @param corpusName      recorded in the provenance
 * @param checkpoint      file to save progress to every {@code checkpointEvery} texts and to resume from when it
 *                        exists, or null for none
 * @param checkpointEvery texts between checkpoint saves
 */
public record StatsOptions(int batchSize, int maxTokens, long sampleLimit, String corpusName, Path checkpoint,
                           long checkpointEvery) {
    /**
     * Default texts per batch: 16. As fast as 32 on 60-token texts (1,524 against 1,502 tokens/s with OpenBLAS,
     * 1,733 against 1,809 with MKL) and faster on short ones (750 against 717 tokens/s on the WordNet glosses, whose
     * batches are padded to their longest text), with ~90 MB less peak RSS (docs/benchmarks.md).
     */
    public static final int DEFAULT_BATCH_SIZE = 16;
    /** The paper's cut: 60 tokens per text. */
    public static final int DEFAULT_MAX_TOKENS = 60;
    /** The paper's sample count: 100,000 texts. */
    public static final long DEFAULT_SAMPLE_LIMIT = 100_000;
    /** Default texts between checkpoints. */
    public static final long DEFAULT_CHECKPOINT_EVERY = 10_000;
    /** Default corpus name. */
    public static final String DEFAULT_CORPUS_NAME = "corpus";

    /**
     * Validates every field.
     *
     * @param batchSize       texts per forward pass, ≥ 1
     * @param maxTokens       tokens per text at most, ≥ 2 (the upper bound is checked against the model in compute)
     * @param sampleLimit     texts to use at most, ≥ 1
     * @param corpusName      recorded in the provenance, not blank
     * @param checkpoint      checkpoint file, or null for none
     * @param checkpointEvery texts between checkpoint saves, ≥ 1
     * @throws IllegalArgumentException if a number is out of range or the corpus name is blank
     */
    public StatsOptions {
        Builder.checkBatchSize(batchSize);
        Builder.checkMaxTokens(maxTokens);
        Builder.checkSampleLimit(sampleLimit);
        Builder.checkCorpusName(corpusName);
        Builder.checkCheckpointEvery(checkpointEvery);
    }

    /**
     * The defaults: batch 16, 60 tokens, 100,000 texts, corpus "corpus", no checkpoint.
     *
     * @return the default options (checkpoints every 10,000 texts once a checkpoint file is set)
     */
    public static StatsOptions defaults() {
        return builder().build();
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder holding {@link #defaults()}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from these options.
     *
     * @return a new builder holding this record's values
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.batchSize = batchSize;
        b.maxTokens = maxTokens;
        b.sampleLimit = sampleLimit;
        b.corpusName = corpusName;
        b.checkpoint = checkpoint;
        b.checkpointEvery = checkpointEvery;
        return b;
    }

    /** Builds {@link StatsOptions}; every setter validates its argument at once. */
    public static final class Builder {
        private int batchSize = DEFAULT_BATCH_SIZE;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private long sampleLimit = DEFAULT_SAMPLE_LIMIT;
        private String corpusName = DEFAULT_CORPUS_NAME;
        private Path checkpoint;
        private long checkpointEvery = DEFAULT_CHECKPOINT_EVERY;

        private Builder() {
        }

        /**
         * Texts per forward pass, ≥ 1.
         *
         * @param value texts per batch (default {@value StatsOptions#DEFAULT_BATCH_SIZE})
         * @return this builder
         * @throws IllegalArgumentException if {@code value} &lt; 1
         */
        public Builder batchSize(int value) {
            checkBatchSize(value);
            batchSize = value;
            return this;
        }

        /**
         * Tokens per text at most, start and end included, ≥ 2 (checked against the model in compute).
         *
         * @param value token cut (default {@value StatsOptions#DEFAULT_MAX_TOKENS})
         * @return this builder
         * @throws IllegalArgumentException if {@code value} &lt; 2
         */
        public Builder maxTokens(int value) {
            checkMaxTokens(value);
            maxTokens = value;
            return this;
        }

        /**
         * Texts to use at most, ≥ 1.
         *
         * @param value non-blank texts to use at most (default {@value StatsOptions#DEFAULT_SAMPLE_LIMIT})
         * @return this builder
         * @throws IllegalArgumentException if {@code value} &lt; 1
         */
        public Builder sampleLimit(long value) {
            checkSampleLimit(value);
            sampleLimit = value;
            return this;
        }

        /**
         * Corpus name for the provenance, not blank.
         *
         * @param value e.g. {@code wikitext-103-train} (default {@value StatsOptions#DEFAULT_CORPUS_NAME})
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is blank
         * @throws NullPointerException     if {@code value} is null
         */
        public Builder corpusName(String value) {
            checkCorpusName(value);
            corpusName = value;
            return this;
        }

        /**
         * Checkpoint file (null for none).
         *
         * @param value file to save progress to and resume from when it exists, or null (the default)
         * @return this builder
         */
        public Builder checkpoint(Path value) {
            checkpoint = value;
            return this;
        }

        /**
         * Texts between checkpoint saves, ≥ 1.
         *
         * @param value texts between saves (default {@value StatsOptions#DEFAULT_CHECKPOINT_EVERY})
         * @return this builder
         * @throws IllegalArgumentException if {@code value} &lt; 1
         */
        public Builder checkpointEvery(long value) {
            checkCheckpointEvery(value);
            checkpointEvery = value;
            return this;
        }

        /**
         * The options.
         *
         * @return new options with this builder's values
         */
        public StatsOptions build() {
            return new StatsOptions(batchSize, maxTokens, sampleLimit, corpusName, checkpoint, checkpointEvery);
        }

        static void checkBatchSize(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + v);
            }
        }

        static void checkMaxTokens(int v) {
            if (v < 2) {
                throw new IllegalArgumentException("maxTokens must be >= 2 (start and end token), got " + v);
            }
        }

        static void checkSampleLimit(long v) {
            if (v < 1) {
                throw new IllegalArgumentException("sampleLimit must be >= 1, got " + v);
            }
        }

        static void checkCorpusName(String v) {
            Objects.requireNonNull(v, "corpusName");
            if (v.isBlank()) {
                throw new IllegalArgumentException("corpusName must not be blank");
            }
        }

        static void checkCheckpointEvery(long v) {
            if (v < 1) {
                throw new IllegalArgumentException("checkpointEvery must be >= 1, got " + v);
            }
        }
    }
}
