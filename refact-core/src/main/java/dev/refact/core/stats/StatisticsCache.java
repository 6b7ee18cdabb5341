package dev.refact.core.stats;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A folder of covariance statistics files keyed by model fingerprint, layer, corpus and sample count, so that
 * statistics are computed once per model and reused (the {@code refact} command line and {@code Pretrained} use
 * it).
 *
 * <p>File name: {@code <first 16 hex digits of the model fingerprint>-layer<L>-<corpus>-<samples>.safetensors}
 * in the {@link CovarianceStats#save} format. The fingerprint is of the model's content ({@link ClipTextModel#fingerprint()}),
 * so an edited model gets its own entries. Writes are atomic; a corrupt entry is reported, not silently replaced.
 * An entry is computed once even when several threads or processes ask for it at the same time (Spark tasks on one
 * executor, several {@code refact} commands): the first computes under a lock ({@code <entry>.lock} beside it, an
 * OS file lock, plus a lock per entry inside the JVM), the others wait and then read its result.
 * Hits, misses and writes are logged ({@code System.Logger} {@code dev.refact.core.stats.StatisticsCache}, DEBUG).
 *
 * <pre>{@code
 * StatisticsCache cache = StatisticsCache.defaultCache();           // $REFACT_CACHE/stats or ~/.cache/refact/stats
 * try (CovarianceStats c = cache.getOrComputeWordNet(model, tokenizer, 7, 10_000, StatsListener.NONE)) { ... }
 * }</pre>
 */
public final class StatisticsCache {
    private static final System.Logger LOG = System.getLogger(StatisticsCache.class.getName());
    /** Texts used by {@link #getOrComputeWordNet} callers by default (the paper used 100,000 WikiText lines). */
    public static final long DEFAULT_WORDNET_SAMPLES = 10_000;

    private final Path dir;
    /** One lock per entry file inside this JVM (a file lock is per process: threads would overlap on it). */
    private static final ConcurrentHashMap<Path, ReentrantLock> COMPUTING = new ConcurrentHashMap<>();

    /**
     * A cache in {@code dir} (created when the first entry is written).
     *
     * @throws NullPointerException if {@code dir} is null
     * @param dir the cache folder
     */
    public StatisticsCache(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir");
    }

    /**
     * The default cache: {@code CACHE/stats} where CACHE is the system property {@code refact.cache} or else the
     * environment variable {@code REFACT_CACHE}; without either
     * {@code ~/.cache/refact/stats}.
     * @return the default cache
     */
    public static StatisticsCache defaultCache() {
        String env = System.getProperty("refact.cache");
        if (env == null || env.isBlank()) {
            env = System.getenv("REFACT_CACHE");
        }
        Path dir = env != null && !env.isBlank() ? Path.of(env).resolve("stats")
                : Path.of(System.getProperty("user.home"), ".cache", "refact", "stats");
        return new StatisticsCache(dir);
    }

    /** {@return the cache folder} */
    public Path dir() {
        return dir;
    }

    /**
     * The file that holds (or would hold) the entry.
     *
     * @throws IllegalArgumentException if the fingerprint is shorter than 16 characters, the layer or samples are
     *                                  negative, or the corpus name is not a plain file-name fragment
     * @param modelFingerprint the model's fingerprint (64 hex digits)
     * @param layer 0-based layer
     * @param corpus corpus name (part of the key)
     * @param samples number of texts (part of the key)
     * @return the file that holds (or would hold) the entry
     */
    public Path fileFor(String modelFingerprint, int layer, String corpus, long samples) {
        if (modelFingerprint.length() < 16) {
            throw new IllegalArgumentException("model fingerprint '" + modelFingerprint + "' is too short");
        }
        if (layer < 0 || samples < 0) {
            throw new IllegalArgumentException("layer and samples must be >= 0, got " + layer + " and " + samples);
        }
        if (!corpus.matches("[A-Za-z0-9._+-]+")) {
            throw new IllegalArgumentException("corpus name '" + corpus + "' must be letters, digits, '.', '_', '+' "
                    + "or '-' (it is part of a file name)");
        }
        return dir.resolve(String.format(Locale.ROOT, "%s-layer%d-%s-%d.safetensors",
                modelFingerprint.substring(0, 16), layer, corpus, samples));
    }

    /**
     * The cached statistics for this model, layer, corpus and sample count, loaded onto the model's device.
     *
     * @return the statistics (owned by the caller), or empty on a miss
     * @throws IOException if the entry exists but cannot be read (the message names the file)
     * @param model the text encoder
     * @param layer 0-based layer
     * @param corpus corpus name (part of the key)
     * @param samples number of texts (part of the key)
     */
    public Optional<CovarianceStats> find(ClipTextModel model, int layer, String corpus, long samples)
            throws IOException {
        Path file = fileFor(model.fingerprint(), layer, corpus, samples);
        if (!Files.isRegularFile(file)) {
            LOG.log(System.Logger.Level.DEBUG, () -> "statistics cache miss: " + file);
            return Optional.empty();
        }
        CovarianceStats s = CovarianceStats.load(file, model.device());
        if (s.layer() != layer || s.dim() != model.config().intermediateSize()) {
            String what = "layer " + s.layer() + ", " + s.dim() + "×" + s.dim();
            s.close();
            throw new IOException(file + ": cached statistics are for " + what + ", not layer " + layer
                    + " of a model with MLP width " + model.config().intermediateSize() + "; delete the file");
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "statistics cache hit: " + file);
        return Optional.of(s);
    }

    /**
     * The cached entry, or statistics computed with {@link CovarianceStats#compute} and then stored.
     *
     * @param corpus  texts to compute from on a miss (not called on a hit)
     * @param options must name the corpus ({@link StatsOptions#corpusName()}) and the sample limit; both are part
     *                of the key
     * @return statistics owned by the caller
     * @throws IOException if reading or writing the cache fails
     * @param model the text encoder
     * @param tokenizer its tokenizer
     * @param layer 0-based layer
     * @param listener progress receiver
     */
    public CovarianceStats getOrCompute(ClipTextModel model, ClipTokenizer tokenizer, int layer,
                                        Supplier<Iterable<String>> corpus, StatsOptions options,
                                        StatsListener listener) throws IOException {
        Optional<CovarianceStats> hit = find(model, layer, options.corpusName(), options.sampleLimit());
        if (hit.isPresent()) {
            return hit.get();
        }
        Path file = fileFor(model.fingerprint(), layer, options.corpusName(), options.sampleLimit()).toAbsolutePath()
                .normalize();
        Files.createDirectories(dir);
        ReentrantLock inJvm = COMPUTING.computeIfAbsent(file, f -> new ReentrantLock());
        inJvm.lock();
        try (FileChannel ch = FileChannel.open(file.resolveSibling(file.getFileName() + ".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = lockLogged(ch, file)) {
            // computed by another thread or process while we waited?
            hit = find(model, layer, options.corpusName(), options.sampleLimit());
            if (hit.isPresent()) {
                return hit.get();
            }
            long start = System.nanoTime();
            CovarianceStats s = CovarianceStats.compute(model, tokenizer, layer, corpus.get(), options, listener);
            try {
                s.save(file);
            } catch (IOException | RuntimeException e) {
                s.close();
                throw e;
            }
            LOG.log(System.Logger.Level.DEBUG, () -> String.format(Locale.ROOT,
                    "statistics computed in %.1f s and cached: %s", (System.nanoTime() - start) / 1e9, file));
            return s;
        } finally {
            inJvm.unlock();
        }
    }

    /** The entry's file lock; says so (DEBUG) when another process holds it and this one waits. */
    private static FileLock lockLogged(FileChannel ch, Path file) throws IOException {
        FileLock quick = ch.tryLock();
        if (quick != null) {
            return quick;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "statistics being computed by another process, waiting: " + file);
        return ch.lock();
    }

    /**
     * {@link #getOrCompute} on the built-in corpus (WordNet 3.1 glosses, {@link Corpora#WORDNET}).
     *
     * @param samples texts to use (e.g. {@link #DEFAULT_WORDNET_SAMPLES})
     * @throws IllegalStateException if the entry is missing and the built-in corpus is not on the class path
     * @throws IOException           if reading or writing the cache fails
     * @param model the text encoder
     * @param tokenizer its tokenizer
     * @param layer 0-based layer
     * @param listener progress receiver
     * @return statistics owned by the caller
     */
    public CovarianceStats getOrComputeWordNet(ClipTextModel model, ClipTokenizer tokenizer, int layer, long samples,
                                               StatsListener listener) throws IOException {
        StatsOptions options = StatsOptions.builder().sampleLimit(samples).corpusName(Corpora.WORDNET).build();
        Optional<CovarianceStats> hit = find(model, layer, Corpora.WORDNET, samples);
        if (hit.isPresent()) {
            return hit.get();
        }
        if (!Corpora.wordNetAvailable()) {
            throw new IllegalStateException("no cached statistics for layer " + layer + " of " + model.source()
                    + " and the built-in corpus is not on the class path; compute statistics ('refact stats') and "
                    + "load them with CovarianceStats.load");
        }
        return getOrCompute(model, tokenizer, layer, Corpora::wordNetGlosses, options, listener);
    }

    @Override
    public String toString() {
        return "StatisticsCache[" + dir + "]";
    }
}
