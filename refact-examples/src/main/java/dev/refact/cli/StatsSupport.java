package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.Corpora;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatisticsCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Statistics for the commands that edit: loaded from {@code --stats FILE}, or computed from the built-in corpus
 * (WordNet 3.1 glosses) and cached in the library's {@link StatisticsCache} ({@code $REFACT_CACHE/stats}, default
 * {@code ~/.cache/refact/stats}) by model fingerprint, layer and sample count, so that the next edit of the same
 * model reuses them.
 */
final class StatsSupport {
    /** Texts used when statistics are computed on the fly (the paper used 100,000 WikiText lines). */
    static final long ON_THE_FLY_SAMPLES = Long.getLong("refact.stats.samples", 10_000);

    private StatsSupport() {
    }

    /** As {@link #loadOrCompute(Path, ClipTextModel, ClipTokenizer, int, java.io.PrintWriter)}, messages to stderr. */
    static CovarianceStats loadOrCompute(Path file, ClipTextModel model, ClipTokenizer tokenizer, int layer) {
        return loadOrCompute(file, model, tokenizer, layer, new java.io.PrintWriter(
                new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true));
    }

    static CovarianceStats loadOrCompute(Path file, ClipTextModel model, ClipTokenizer tokenizer, int layer,
                                         java.io.PrintWriter err) {
        return loadOrCompute(file, model, tokenizer, layer, err, false);
    }

    /** As above; statistics of another model are refused unless {@code allowForeign} (--allow-foreign-stats). */
    static CovarianceStats loadOrCompute(Path file, ClipTextModel model, ClipTokenizer tokenizer, int layer,
                                         java.io.PrintWriter err, boolean allowForeign) {
        try {
            if (file != null) {
                CovarianceStats s = CovarianceStats.load(file, model.device());
                if (s.layer() != layer || s.dim() != model.config().intermediateSize()) {
                    int l = s.layer();
                    int d = s.dim();
                    s.close();
                    throw new IllegalArgumentException(file + ": statistics of layer " + l + " (" + d + "×" + d
                            + ") do not fit an edit of layer " + layer + " of this model (MLP width "
                            + model.config().intermediateSize() + ")");
                }
                if (!allowForeign && !dev.refact.core.stats.ForeignStatistics.computedOn(s, model)) {
                    try {
                        dev.refact.core.stats.ForeignStatistics.check(s, model, "--stats " + file,
                                "--allow-foreign-stats");
                    } finally {
                        s.close();
                    }
                }
                return s;
            }
            StatisticsCache cache = new StatisticsCache(cacheDir());
            java.util.Optional<CovarianceStats> hit = cache.find(model, layer, Corpora.WORDNET, ON_THE_FLY_SAMPLES);
            if (hit.isPresent()) {
                err.println("refact: using cached statistics " + cache.fileFor(model.fingerprint(), layer,
                        Corpora.WORDNET, ON_THE_FLY_SAMPLES));
                return hit.get();
            }
            if (!Corpora.wordNetAvailable()) {
                throw new IllegalArgumentException("no --stats given and the built-in corpus is not on the class path; "
                        + "compute statistics with 'refact stats' and pass --stats FILE");
            }
            err.printf(Locale.ROOT, "refact: no --stats given: computing covariance statistics at layer %d "
                    + "from %d WordNet glosses (the paper used 100,000 WikiText-103 lines; see docs/statistics.md)%n",
                    layer, ON_THE_FLY_SAMPLES);
            CovarianceStats s;
            try (Progress bar = Progress.start(err, "statistics", ON_THE_FLY_SAMPLES, "texts")) {
                s = cache.getOrComputeWordNet(model, tokenizer, layer, ON_THE_FLY_SAMPLES, p -> bar.stepTo(p.texts()));
            }
            err.println("refact: cached statistics in " + cache.fileFor(model.fingerprint(), layer, Corpora.WORDNET,
                    ON_THE_FLY_SAMPLES));
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * The on-the-fly statistics of {@code layer} as a file of the statistics cache: computed (as
     * {@link #loadOrCompute} without a file does) unless the cache has the file already (it is not read here: whoever
     * loads it checks it).
     *
     * @param model     the model
     * @param tokenizer its tokenizer
     * @param layer     the edited layer
     * @param err       where progress and cache messages go
     * @return the cache file, absolute
     * @throws UncheckedIOException     if the statistics cannot be computed or written
     * @throws IllegalArgumentException if the built-in corpus is not on the class path
     */
    static Path onTheFlyFile(ClipTextModel model, ClipTokenizer tokenizer, int layer, java.io.PrintWriter err) {
        Path file = new StatisticsCache(cacheDir()).fileFor(model.fingerprint(), layer, Corpora.WORDNET,
                ON_THE_FLY_SAMPLES).toAbsolutePath();
        if (!java.nio.file.Files.isRegularFile(file)) {
            loadOrCompute(null, model, tokenizer, layer, err, false).close();
        }
        return file;
    }

    /** The library's default statistics cache folder ({@link StatisticsCache#defaultCache()}). */
    static Path cacheDir() {
        return StatisticsCache.defaultCache().dir();
    }
}
