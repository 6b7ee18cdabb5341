package dev.refact.core.stats;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One run of {@link CovarianceStats#compute}: streams a corpus, tokenizes each text (start, BPE ids cut so that
 * the whole fits {@code maxTokens}, end), runs batches through the layers up to {@code layer} and adds
 * {@code Σ k kᵀ} over the real (non-padding) positions to a float64 sum on the model's device.
 *
 * <p>Invariant at every checkpoint: {@code sum}, {@code count} and {@code texts} describe exactly the first
 * {@code texts} non-blank texts of the corpus (the pending batch is empty).
 */
final class StatsComputation {

    private final ClipTextModel model;
    private final ClipTokenizer tokenizer;
    private final int layer;
    private final StatsOptions options;
    private final StatsListener listener;
    private final int dim;
    private final long startId;
    private final long endId;
    private final String fingerprint;

    private Tensor sum;                 // [i,i] float64 on the model's device, Σ k kᵀ
    private long count;                 // keys in sum
    private long texts;                 // texts in sum
    private long restoredCount;         // keys restored from the checkpoint
    private long lastCheckpointTexts;
    private long startNanos;

    StatsComputation(ClipTextModel model, ClipTokenizer tokenizer, int layer, StatsOptions options,
                     StatsListener listener) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.options = Objects.requireNonNull(options, "options");
        this.listener = listener == null ? StatsListener.NONE : listener;
        int layers = model.config().numHiddenLayers();
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("layer " + layer + " is outside [0, " + layers + ") for " + model);
        }
        int positions = model.config().maxPositionEmbeddings();
        if (options.maxTokens() > positions) {
            throw new IllegalArgumentException("maxTokens " + options.maxTokens() + " exceeds the model's "
                    + positions + " positions");
        }
        this.layer = layer;
        this.dim = model.config().intermediateSize();
        this.startId = tokenizer.startTokenId();
        this.endId = tokenizer.endTokenId();
        this.fingerprint = model.fingerprint();
    }

    CovarianceStats run(Iterable<String> corpus) throws IOException {
        Objects.requireNonNull(corpus, "corpus");
        MessageDigest digest = sha256();
        String restoredSha = null;
        long restoredTexts = 0;
        Path checkpoint = options.checkpoint();
        if (checkpoint != null && Files.exists(checkpoint)) {
            StatsProvenance p = restore(checkpoint);
            restoredSha = p.corpusSha256();
            restoredTexts = p.texts();
        } else {
            try (PointerScope scope = new PointerScope()) {
                sum = torch.zeros(new long[] {dim, dim}, Tensors.options(torch.ScalarType.Double, model.device()))
                        .retainReference();
            }
        }
        try {
            startNanos = System.nanoTime();
            lastCheckpointTexts = texts;
            long seen = 0;   // non-blank texts read (restored ones included)
            List<long[]> batch = new ArrayList<>(options.batchSize());
            Iterator<String> it = corpus.iterator();
            try {
                while (seen < options.sampleLimit() && it.hasNext()) {
                    String text = it.next();
                    if (text == null) {
                        throw new IllegalArgumentException("corpus " + options.corpusName() + ": text after "
                                + seen + " texts is null");
                    }
                    if (text.isBlank()) {
                        continue;
                    }
                    digest.update(text.getBytes(StandardCharsets.UTF_8));
                    digest.update((byte) '\n');
                    seen++;
                    if (seen <= restoredTexts) {
                        if (seen == restoredTexts) {
                            checkRestoredPrefix(checkpoint, digest, restoredSha);
                        }
                        continue;
                    }
                    batch.add(tokens(text));
                    if (batch.size() == options.batchSize()) {
                        flush(batch);
                        maybeCheckpoint(digest);
                    }
                }
            } finally {
                if (it instanceof AutoCloseable c) {
                    closeQuietly(c);
                }
            }
            if (seen < restoredTexts) {
                throw new IllegalArgumentException("corpus " + options.corpusName() + " has " + seen
                        + " texts, but checkpoint " + checkpoint + " already counted " + restoredTexts
                        + ": it was made from another corpus");
            }
            flush(batch);
            if (count == 0) {
                throw new IllegalArgumentException("corpus " + options.corpusName() + " has no non-blank text");
            }
            report(true);
            StatsProvenance p = provenance(dev.refact.clip.io.Sha256.hex(digest));
            return CovarianceStats.adopt(mean(), p);
        } finally {
            sum.close();
            sum = null;
        }
    }

    /** BPE ids of one text framed by start and end, at most {@code maxTokens} long, the end token last. */
    long[] tokens(String text) {
        int[] bpe = tokenizer.encode(text);
        int n = Math.min(bpe.length, options.maxTokens() - 2);
        long[] ids = new long[n + 2];
        ids[0] = startId;
        for (int j = 0; j < n; j++) {
            ids[j + 1] = bpe[j];
        }
        ids[n + 1] = endId;
        return ids;
    }

    /** Adds the keys of the batch's real tokens to the sum and empties the batch. */
    private void flush(List<long[]> batch) {
        if (batch.isEmpty()) {
            return;
        }
        int b = batch.size();
        int n = 0;
        int real = 0;
        for (long[] row : batch) {
            n = Math.max(n, row.length);
            real += row.length;
        }
        long[] flat = new long[b * n];
        Arrays.fill(flat, endId);                 // padding: never counted, and causal attention hides it
        long[] rows = new long[real];             // indices of real positions in the flattened [b*n] batch
        int r = 0;
        for (int i = 0; i < b; i++) {
            long[] row = batch.get(i);
            System.arraycopy(row, 0, flat, i * n, row.length);
            for (int j = 0; j < row.length; j++) {
                rows[r++] = (long) i * n + j;
            }
        }
        Device device = model.device();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor ids = Tensors.longs(flat, device, b, n);
            MlpTrace trace = model.traceMlp(ids, layer);
            Tensor keys = trace.key().reshape((long) b * n, dim);                      // [b*n, i]
            if (real < b * n) {
                keys = keys.index_select(0, Tensors.longs(rows, device, real));        // [t, i]
            }
            Tensor k = keys.to(torch.ScalarType.Double);                              // [t, i] float64
            addUpperBlocks(sum, k);                                                   // Σ k kᵀ, upper blocks
        }
        // glibc keeps the batch's freed activations (tens of MB each) in its heap; hand whole free pages back to the
        // OS so that RSS stays at one batch's worth across a long corpus (a cheap call next to a batch's forward)
        org.bytedeco.javacpp.Pointer.trimMemory();
        count += real;
        texts += b;
        batch.clear();
        report(false);
    }

    private void maybeCheckpoint(MessageDigest digest) throws IOException {
        Path checkpoint = options.checkpoint();
        if (checkpoint == null || texts - lastCheckpointTexts < options.checkpointEvery()) {
            return;
        }
        String sha = dev.refact.clip.io.Sha256.hex(cloneOf(digest));
        try (PointerScope scope = new PointerScope()) {
            StatsFile.write(checkpoint, meanInScope(), provenance(sha));
        }
        lastCheckpointTexts = texts;
    }

    private StatsProvenance restore(Path checkpoint) throws IOException {
        StatsFile.Contents c = StatsFile.read(checkpoint, model.device());
        StatsProvenance p = c.provenance();
        try {
            String where = "checkpoint " + checkpoint;
            if (!p.modelFingerprint().equals(fingerprint)) {
                throw new IllegalArgumentException(where + " was computed with model " + p.modelFingerprint()
                        + ", not " + fingerprint + " (" + model.source() + "); delete it or choose another path");
            }
            if (p.layer() != layer || p.maxTokens() != options.maxTokens()) {
                throw new IllegalArgumentException(where + " is for layer " + p.layer() + " with maxTokens "
                        + p.maxTokens() + ", not layer " + layer + " with maxTokens " + options.maxTokens());
            }
            if (!p.dtype().equals("float64") || p.texts() < 1 || p.corpusSha256().isEmpty()) {
                throw new IllegalArgumentException(where + " is not a resumable computation (dtype " + p.dtype()
                        + ", " + p.texts() + " texts, corpus hash '" + p.corpusSha256() + "')");
            }
            if (p.texts() > options.sampleLimit()) {
                throw new IllegalArgumentException(where + " already counted " + p.texts()
                        + " texts, more than the sample limit " + options.sampleLimit());
            }
            if (c.mean().size(0) != dim) {
                throw new IllegalArgumentException(where + " is " + c.mean().size(0) + "×" + c.mean().size(0)
                        + ", the model's MLP width is " + dim);
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
                sum = c.mean().mul(new Scalar((double) p.count())).retainReference();
                clearLowerBlocks(sum);
            }
        } finally {
            c.mean().close();
        }
        count = p.count();
        texts = p.texts();
        restoredCount = count;
        return p;
    }

    private static void checkRestoredPrefix(Path checkpoint, MessageDigest digest, String expected) {
        String actual = dev.refact.clip.io.Sha256.hex(cloneOf(digest));
        if (!actual.equals(expected)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was made from other texts: the corpus's "
                    + "first texts hash to " + actual + ", the checkpoint's to " + expected
                    + " (same corpus in the same order needed to resume)");
        }
    }

    private StatsProvenance provenance(String sha) {
        return new StatsProvenance(fingerprint, layer, options.corpusName(), sha, count, "float64", texts,
                options.maxTokens());
    }

    /** Σ k kᵀ is symmetric: {@link #addUpperBlocks} fills the blocks on and above the diagonal only. */
    static final int BLOCKS = 4;

    private static long blockStart(long dim, int b) {
        return dim * b / BLOCKS;
    }

    /**
     * Adds {@code kᵀk} ([t,i] float64 keys) to the blocks of {@code sum} on and above the block diagonal
     * ({@code BLOCKS}² blocks, 10 of 16 GEMMs: 37.5 % fewer float64 flops than the full {@code kᵀk}). Each entry is
     * still one float64 dot product over the batch's keys, as with a full GEMM. The blocks below the diagonal stay
     * zero until {@link #mirrorLowerBlocks} fills a copy.
     */
    static void addUpperBlocks(Tensor sum, Tensor k) {
        long dim = sum.size(0);
        for (int bi = 0; bi < BLOCKS; bi++) {
            long i0 = blockStart(dim, bi);
            long ni = blockStart(dim, bi + 1) - i0;
            Tensor ki = k.narrow(1, i0, ni);
            for (int bj = bi; bj < BLOCKS; bj++) {
                long j0 = blockStart(dim, bj);
                long nj = blockStart(dim, bj + 1) - j0;
                sum.narrow(0, i0, ni).narrow(1, j0, nj).addmm_(ki.t(), k.narrow(1, j0, nj));
            }
        }
    }

    /** Fills the strictly-lower blocks of {@code m} (upper-block form) with its transposed upper blocks, in place. */
    private static void mirrorLowerBlocks(Tensor m) {
        long dim = m.size(0);
        for (int bi = 1; bi < BLOCKS; bi++) {
            long i0 = blockStart(dim, bi);
            long ni = blockStart(dim, bi + 1) - i0;
            for (int bj = 0; bj < bi; bj++) {
                long j0 = blockStart(dim, bj);
                long nj = blockStart(dim, bj + 1) - j0;
                m.narrow(0, i0, ni).narrow(1, j0, nj).copy_(m.narrow(0, j0, nj).narrow(1, i0, ni).t());
            }
        }
    }

    /** Zeroes the strictly-lower blocks of a full (restored) sum, so that it is in upper-block form again. */
    private static void clearLowerBlocks(Tensor sum) {
        long dim = sum.size(0);
        for (int bi = 1; bi < BLOCKS; bi++) {
            long i0 = blockStart(dim, bi);
            long ni = blockStart(dim, bi + 1) - i0;
            sum.narrow(0, i0, ni).narrow(1, 0, i0).zero_();
        }
    }

    /** The symmetrised mean (Σ k kᵀ / count + its transpose) / 2, [i,i] float64, in the current scope. */
    private Tensor meanInScope() {
        Tensor m = sum.div(new Scalar((double) count));
        mirrorLowerBlocks(m);
        Tensor sym = m.add(m.t());
        m.close();
        sym.mul_(new Scalar(0.5));
        return sym;
    }

    /** The mean, owned by the caller; checks it is finite. */
    private Tensor mean() {
        Tensor out;
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor m = meanInScope();
            if (!torch.isfinite(m).all().item_bool()) {
                throw new IllegalStateException("keys at layer " + layer + " of " + model + " over corpus "
                        + options.corpusName() + " have non-finite values");
            }
            out = m.retainReference();
        }
        return out;
    }

    private void report(boolean finished) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = seconds > 0 ? (count - restoredCount) / seconds : 0;
        listener.progress(new StatsProgress(texts, count, seconds, rate, finished));
    }

    private static MessageDigest sha256() {
        return dev.refact.clip.io.Sha256.newDigest();
    }

    private static MessageDigest cloneOf(MessageDigest d) {
        try {
            return (MessageDigest) d.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // the corpus was read; a failing close of its reader does not change the statistics
        }
    }
}
