package dev.refact.core.eval;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Evaluates ReFACT edits over a grid of layer × N contrastive captions × learning rate, one
 * {@link EvaluationRunner} run (refact mode) per setting, layer outermost.
 *
 * <pre>{@code
 * SweepResult sweep = SweepRunner.builder()
 *         .scorer(ProbeScorer.textSpace(tokenizer, true))
 *         .tokenizer(tokenizer)
 *         .base(Hyperparameters.roleEdits())
 *         .numContrastive(List.of(0, 15, 20, 30, 50))          // the paper's ablation (needs a pool of >= 50)
 *         .statistics(layer -> loadStats(layer))
 *         .directory(Path.of("out/sweep"))                     // one resumable results file per setting
 *         .build()
 *         .run(model, dataset, dataset.cases());
 * EvaluationReport.writeSweep(sweep, Path.of("out/sweep"));    // sweep.md, sweep.csv
 * }</pre>
 *
 * <p>With a directory, each setting's cells go to {@code points/layer<L>-n<N>-lr<lr>.jsonl}, so an
 * interrupted sweep resumes where it stopped. Unset axes take the base hyperparameters' value.
 */
public final class SweepRunner {
    /** Settings that run at once when a {@link CellExecutor} computes the cells. */
    static final int MAX_CONCURRENT_SETTINGS = 16;

    private final ProbeScorer scorer;
    private final ClipTokenizer tokenizer;
    private final Hyperparameters base;
    private final List<Integer> layers;
    private final List<Integer> numContrastive;
    private final List<Double> learningRates;
    private final IntFunction<CovarianceStats> statistics;
    private final List<Integer> seeds;
    private final Path directory;
    private final EvaluationListener listener;
    private final CellExecutor executor;
    private final boolean allowForeign;

    private SweepRunner(Builder b) {
        scorer = b.scorer;
        tokenizer = b.tokenizer;
        base = b.base;
        layers = b.layers == null ? List.of(base.layer()) : b.layers;
        numContrastive = b.numContrastive == null ? List.of(base.numContrastive()) : b.numContrastive;
        learningRates = b.learningRates == null ? List.of(base.learningRate()) : b.learningRates;
        statistics = b.statistics;
        seeds = b.seeds;
        directory = b.directory;
        listener = b.listener;
        executor = b.executor;
        allowForeign = b.allowStatisticsOfOtherModels;
    }

    /**
     * A builder; scorer, tokenizer, base hyperparameters and statistics are required.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Number of settings in the grid.
     *
     * @return layers × N values × learning rates
     */
    public int size() {
        return layers.size() * numContrastive.size() * learningRates.size();
    }

    /**
     * Runs every setting.
     *
     * @param model   the text encoder, clean; it has the same weights again on return
     * @param dataset the dataset the rows come from
     * @param rows    rows of {@code dataset}, evaluated at every setting
     * @return one point per setting, layer outermost, then N, then learning rate
     * @throws IllegalArgumentException if a setting is invalid for the model or the base hyperparameters (e.g.
     *                                  N larger than the contrastive pool, a layer outside the model), checked for
     *                                  every setting before the first edit
     * @throws IOException              if a results file cannot be read or written
     */
    public SweepResult run(ClipTextModel model, Dataset dataset, List<EvalCase> rows) throws IOException {
        int nLayers = model.config().numHiddenLayers();
        List<Hyperparameters> grid = new ArrayList<>();
        for (int layer : layers) {
            if (layer >= nLayers) {
                throw new IllegalArgumentException("sweep layer " + layer + " is outside the model's " + nLayers
                        + " layers (0.." + (nLayers - 1) + ")");
            }
            for (int n : numContrastive) {
                for (double lr : learningRates) {
                    try {
                        grid.add(base.toBuilder().layer(layer).numContrastive(n).learningRate(lr).build());
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("sweep setting layer " + layer + ", N " + n + ", lr " + lr
                                + ": " + e.getMessage(), e);
                    }
                }
            }
        }
        if (executor != null) {
            return new SweepResult(dataset, rows, base, runConcurrently(model, dataset, rows, grid));
        }
        List<SweepPoint> points = new ArrayList<>();
        int index = 0;
        for (int layer : layers) {
            try (CovarianceStats stats = Objects.requireNonNull(statistics.apply(layer),
                    "statistics function returned null for layer " + layer)) {
                for (Hyperparameters hp : grid) {
                    if (hp.layer() != layer) {
                        continue;
                    }
                    EvaluationResult r = setting(hp, stats, listener).run(model, dataset, rows);
                    SweepPoint p = new SweepPoint(hp.layer(), hp.numContrastive(), hp.learningRate(), r);
                    points.add(p);
                    listener.sweepPoint(p, index++, grid.size());
                }
            }
        }
        return new SweepResult(dataset, rows, base, points);
    }

    private EvaluationRunner setting(Hyperparameters hp, CovarianceStats stats, EvaluationListener to) {
        EvaluationRunner.Builder b = EvaluationRunner.builder().mode(EvalMode.REFACT).scorer(scorer)
                .editor(tokenizer, stats, hp).listener(to).allowStatisticsOfOtherModels(allowForeign);
        if (seeds != null) {
            b.seeds(seeds);
        }
        if (directory != null) {
            b.results(directory.resolve("points").resolve(fileName(hp)));
        }
        if (executor != null) {
            b.executor(executor);
        }
        return b.build();
    }

    /**
     * With a {@link CellExecutor}: every setting runs at once on its own driver thread (up to
     * {@link #MAX_CONCURRENT_SETTINGS}), so the executor sees the cells of all settings together (Spark schedules
     * the concurrent jobs on its executors). The model is only fingerprinted here, never edited; the statistics
     * of every swept layer are open for the whole sweep.
     */
    private List<SweepPoint> runConcurrently(ClipTextModel model, Dataset dataset, List<EvalCase> rows,
                                             List<Hyperparameters> grid) throws IOException {
        model.fingerprint();   // once, before the settings' threads read it
        Map<Integer, CovarianceStats> stats = new LinkedHashMap<>();
        ExecutorService pool = null;
        try {
            for (int layer : layers) {
                stats.put(layer, Objects.requireNonNull(statistics.apply(layer),
                        "statistics function returned null for layer " + layer));
            }
            AtomicInteger threads = new AtomicInteger();
            pool = Executors.newFixedThreadPool(Math.min(grid.size(), MAX_CONCURRENT_SETTINGS), r -> {
                Thread t = new Thread(r, "refact-sweep-setting-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            AtomicInteger finished = new AtomicInteger();
            // the settings' threads call the one listener concurrently: every call goes through one lock, so a
            // listener written for the sequential sweep (one call at a time) stays correct
            EvaluationListener serial = new SerialListener(listener);
            List<Future<SweepPoint>> futures = new ArrayList<>();
            for (Hyperparameters hp : grid) {
                EvaluationRunner runner = setting(hp, stats.get(hp.layer()), serial);
                futures.add(pool.submit(() -> {
                    EvaluationResult r = runner.run(model, dataset, rows);
                    SweepPoint p = new SweepPoint(hp.layer(), hp.numContrastive(), hp.learningRate(), r);
                    serial.sweepPoint(p, finished.getAndIncrement(), grid.size());
                    return p;
                }));
            }
            List<SweepPoint> points = new ArrayList<>();
            for (Future<SweepPoint> f : futures) {
                try {
                    points.add(f.get());
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IOException(c.getMessage(), c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while the sweep's settings ran", e);
                }
            }
            return points;
        } finally {
            if (pool != null) {
                pool.shutdownNow();
                try {
                    pool.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            stats.values().forEach(CovarianceStats::close);
        }
    }

    static String fileName(Hyperparameters hp) {
        return String.format(Locale.ROOT, "layer%d-n%d-lr%s.jsonl", hp.layer(), hp.numContrastive(),
                Double.toString(hp.learningRate()));
    }

    /** Forwards every call to {@code to}, one call at a time (the concurrent sweep's settings share it). */
    static final class SerialListener implements EvaluationListener {
        private final EvaluationListener to;

        SerialListener(EvaluationListener to) {
            this.to = to;
        }

        @Override
        public synchronized void started(EvalProgress progress) {
            to.started(progress);
        }

        @Override
        public synchronized void skipped(SkippedRow row) {
            to.skipped(row);
        }

        @Override
        public synchronized void warning(String message) {
            to.warning(message);
        }

        @Override
        public synchronized void cellDone(EvalCase row, CellResult cell, EvalProgress progress) {
            to.cellDone(row, cell, progress);
        }

        @Override
        public synchronized void sequentialPoint(SequentialPoint point, EvalProgress progress) {
            to.sequentialPoint(point, progress);
        }

        @Override
        public synchronized void sweepPoint(SweepPoint point, int index, int total) {
            to.sweepPoint(point, index, total);
        }
    }

    /** Builds a {@link SweepRunner}; setters validate at once. */
    public static final class Builder {
        private ProbeScorer scorer;
        private ClipTokenizer tokenizer;
        private Hyperparameters base;
        private List<Integer> layers;
        private List<Integer> numContrastive;
        private List<Double> learningRates;
        private IntFunction<CovarianceStats> statistics;
        private List<Integer> seeds;
        private Path directory;
        private EvaluationListener listener = EvaluationListener.NONE;
        private CellExecutor executor;
        private boolean allowStatisticsOfOtherModels;

        private Builder() {
        }

        /**
         * Whether the editors accept statistics computed on another model (default false: refused).
         *
         * @param value true to allow
         * @return this builder
         */
        public Builder allowStatisticsOfOtherModels(boolean value) {
            allowStatisticsOfOtherModels = value;
            return this;
        }

        /**
         * Computes every setting's pending cells with {@code value} (see
         * {@link EvaluationRunner.Builder#executor(CellExecutor)}); the settings then run at once, each on its own
         * thread (up to 16), so {@code value} must accept concurrent {@code execute} calls and the listener is
         * called from those threads.
         *
         * @param value the executor, not null
         * @return this builder
         */
        public Builder executor(CellExecutor value) {
            executor = Objects.requireNonNull(value, "executor");
            return this;
        }

        /**
         * How probes are scored (required; text space is the usual choice for sweeps).
         *
         * @param value the scorer, not null
         * @return this builder
         */
        public Builder scorer(ProbeScorer value) {
            scorer = Objects.requireNonNull(value, "scorer");
            return this;
        }

        /**
         * The model's tokenizer (required).
         *
         * @param value the tokenizer, not null
         * @return this builder
         */
        public Builder tokenizer(ClipTokenizer value) {
            tokenizer = Objects.requireNonNull(value, "tokenizer");
            return this;
        }

        /**
         * The hyperparameters every setting starts from (required).
         *
         * @param value the base settings, not null; also the default of every unset axis
         * @return this builder
         */
        public Builder base(Hyperparameters value) {
            base = Objects.requireNonNull(value, "base");
            return this;
        }

        /**
         * Layers to sweep (default: the base's).
         *
         * @param value the layer indices, in sweep order; copied
         * @return this builder
         * @throws IllegalArgumentException if empty, negative or repeated
         */
        public Builder layers(List<Integer> value) {
            layers = checkAxis(value, "layers");
            value.forEach(v -> {
                if (v < 0) {
                    throw new IllegalArgumentException("layers must be >= 0, got " + v);
                }
            });
            return this;
        }

        /**
         * Values of N to sweep (default: the base's; the paper's ablation: 0, 15, 20, 30, 50).
         *
         * @param value the numbers of contrastive captions, in sweep order; copied
         * @return this builder
         * @throws IllegalArgumentException if empty, negative or repeated
         */
        public Builder numContrastive(List<Integer> value) {
            numContrastive = checkAxis(value, "numContrastive");
            value.forEach(v -> {
                if (v < 0) {
                    throw new IllegalArgumentException("N contrastive must be >= 0, got " + v);
                }
            });
            return this;
        }

        /**
         * Learning rates to sweep (default: the base's).
         *
         * @param value the Adam learning rates, in sweep order; copied
         * @return this builder
         * @throws IllegalArgumentException if empty, not positive or repeated
         */
        public Builder learningRates(List<Double> value) {
            learningRates = checkAxis(value, "learningRates");
            value.forEach(v -> {
                if (!(v > 0) || Double.isInfinite(v)) {
                    throw new IllegalArgumentException("learning rates must be finite and > 0, got " + v);
                }
            });
            return this;
        }

        /**
         * Statistics per layer (required): called once per swept layer, in order; the sweep closes what it returns
         * when it has finished that layer.
         *
         * @param value maps a layer index to that layer's covariance statistics (never {@code null}); not null
         * @return this builder
         */
        public Builder statistics(IntFunction<CovarianceStats> value) {
            statistics = Objects.requireNonNull(value, "statistics");
            return this;
        }

        /**
         * Seeds for a seeded (image) scorer (see {@link EvaluationRunner.Builder#seeds}).
         *
         * @param value the seeds, in run order; copied
         * @return this builder
         * @throws IllegalArgumentException if empty, repeated or negative
         */
        public Builder seeds(List<Integer> value) {
            List<Integer> v = checkAxis(value, "seeds");
            EvaluationRunner.checkNotNegative(v);
            seeds = v;
            return this;
        }

        /**
         * Where each setting's results file goes ({@code points/…jsonl}); without it nothing is written.
         *
         * @param value the sweep's output directory, not null
         * @return this builder
         */
        public Builder directory(Path value) {
            directory = Objects.requireNonNull(value, "directory");
            return this;
        }

        /**
         * Receives every inner run's progress and {@link EvaluationListener#sweepPoint} after each setting.
         *
         * @param value the listener (default {@link EvaluationListener#NONE}), not null
         * @return this builder
         */
        public Builder listener(EvaluationListener value) {
            listener = Objects.requireNonNull(value, "listener");
            return this;
        }

        private static <T> List<T> checkAxis(List<T> value, String name) {
            Objects.requireNonNull(value, name);
            if (value.isEmpty()) {
                throw new IllegalArgumentException(name + ": at least one value is needed");
            }
            if (new HashSet<>(value).size() != value.size()) {
                throw new IllegalArgumentException(name + ": " + value + " repeats a value");
            }
            return List.copyOf(value);
        }

        /**
         * Builds the runner.
         *
         * @return a new runner with this builder's settings
         * @throws IllegalStateException if a required setting is missing
         */
        public SweepRunner build() {
            if (scorer == null || tokenizer == null || base == null || statistics == null) {
                throw new IllegalStateException("SweepRunner.builder(): scorer, tokenizer, base hyperparameters and "
                        + "statistics are required");
            }
            if (seeds != null) {
                // refused here, not when a setting's runner is built after other settings ran
                EvaluationRunner.checkSeedsFit(scorer, seeds);
            }
            return new SweepRunner(this);
        }
    }
}
