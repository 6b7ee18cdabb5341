package dev.refact.core;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.EncodedText;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatisticsCache;
import dev.refact.core.stats.StatsListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A text encoder with its tokenizer and cached covariance statistics, in one object: the
 * {@code from_pretrained} of refact-java.
 *
 * <pre>{@code
 * try (Pretrained sd = Pretrained.load(Path.of("stable-diffusion-v1-5"))) {      // text_encoder/ + tokenizer/
 *     EditResult edit = sd.edit(EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden"));
 *     double s = sd.encode("The President of the United States").cosineSimilarity(sd.encode("Joe Biden"));
 *     edit.undo();
 * }
 * }</pre>
 *
 * <p>Statistics: {@link #statistics(int)} looks in the {@link StatisticsCache} (default
 * {@code $REFACT_CACHE/stats} or {@code ~/.cache/refact/stats}) under the model's fingerprint, the layer and the
 * built-in corpus (WordNet 3.1 glosses, {@value StatisticsCache#DEFAULT_WORDNET_SAMPLES} texts), and computes and
 * stores them on a miss. Statistics from elsewhere (the paper's WikiText run, {@code refact stats}) are given with
 * {@link #useStatistics}.
 *
 * <p>Owns the model and every statistics object it loaded or was given: {@link #close()} frees them; afterwards
 * every method throws {@code IllegalStateException("Pretrained ... is closed")}. Not thread-safe for edits (the
 * model refuses concurrent edits).
 */
public final class Pretrained implements AutoCloseable {
    private final ClipTextModel model;
    private final ClipTokenizer tokenizer;
    private final StatisticsCache cache;
    private final Map<Integer, CovarianceStats> statistics = new TreeMap<>();
    private final Path path;
    private boolean closed;

    private Pretrained(Path path, ClipTextModel model, ClipTokenizer tokenizer, StatisticsCache cache) {
        this.path = path;
        this.model = model;
        this.tokenizer = tokenizer;
        this.cache = cache;
    }

    /**
     * Loads the text encoder (float32, CPU) and tokenizer of a diffusers checkpoint root (or of a folder holding
     * both), with the default statistics cache.
     *
     * @throws IOException if the model or tokenizer cannot be read (the message names the file)
     * @param path a diffusers root or a folder with the text encoder and tokenizer
     * @return the bundle (owns the model)
     */
    public static Pretrained load(Path path) throws IOException {
        return load(path, StatisticsCache.defaultCache());
    }

    /**
     * As {@link #load(Path)} with a given statistics cache.
     *
     * @throws IOException if the model or tokenizer cannot be read
     * @param path a diffusers root or a folder with the text encoder and tokenizer
     * @param cache the statistics cache
     * @return the bundle (owns the model)
     */
    public static Pretrained load(Path path, StatisticsCache cache) throws IOException {
        Objects.requireNonNull(cache, "cache");
        ClipTextModel model = ClipTextModel.load(path);
        try {
            return new Pretrained(path, model, ClipTokenizer.load(path), cache);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Bundles an already loaded model and tokenizer; the returned object owns (and closes) the model.
     * @param model the text encoder
     * @param tokenizer its tokenizer
     * @param cache the statistics cache
     * @return the bundle (owns the model)
     */
    public static Pretrained of(ClipTextModel model, ClipTokenizer tokenizer, StatisticsCache cache) {
        return new Pretrained(Path.of(model.source()), Objects.requireNonNull(model, "model"),
                Objects.requireNonNull(tokenizer, "tokenizer"), Objects.requireNonNull(cache, "cache"));
    }

    /** {@return the text encoder (owned by this object: do not close it separately)} */
    public ClipTextModel model() {
        checkOpen();
        return model;
    }

    /** {@return the tokenizer} */
    public ClipTokenizer tokenizer() {
        checkOpen();
        return tokenizer;
    }

    /** {@return the statistics cache} */
    public StatisticsCache cache() {
        return cache;
    }

    /**
     * Covariance statistics at {@code layer}: given ones ({@link #useStatistics}), else the cache entry for this
     * model, else computed from the built-in corpus and cached (minutes for SD 1.x). Owned by this object.
     *
     * @throws IOException           if the cache cannot be read or written
     * @throws IllegalStateException if closed, or if the statistics must be computed and the built-in corpus is
     *                               missing
     * @param layer 0-based layer
     * @return statistics at {@code layer}, owned by this object
     */
    public synchronized CovarianceStats statistics(int layer) throws IOException {
        checkOpen();
        CovarianceStats s = statistics.get(layer);
        if (s == null) {
            s = cache.getOrComputeWordNet(model, tokenizer, layer, StatisticsCache.DEFAULT_WORDNET_SAMPLES,
                    StatsListener.NONE);
            statistics.put(layer, s);
        }
        return s;
    }

    /**
     * Uses {@code stats} for edits at its layer from now on; this object takes ownership (closes it, and closes
     * statistics it held for that layer before).
     * @param stats statistics to use (ownership passes to this object)
     */
    public synchronized void useStatistics(CovarianceStats stats) {
        checkOpen();
        CovarianceStats old = statistics.put(stats.layer(), stats);
        if (old != null && old != stats) {
            old.close();
        }
    }

    /**
     * An editor with these hyperparameters, the tokenizer and {@link #statistics(int)} at their layer.
     *
     * @throws IOException if statistics must be loaded or computed and that fails
     * @param hyperparameters the hyperparameters
     * @return an editor with these hyperparameters, the tokenizer and {@link #statistics(int)} at their layer
     */
    public Editor editor(Hyperparameters hyperparameters) throws IOException {
        return Editor.builder().tokenizer(tokenizer()).statistics(statistics(hyperparameters.layer()))
                .hyperparameters(hyperparameters).build();
    }

    /**
     * Edits the model with {@link Hyperparameters#roleEdits()}.
     *
     * @throws IOException if statistics must be loaded or computed and that fails
     * @see Editor#edit(ClipTextModel, EditRequest)
     * @param request the edit request
     * @return the applied edit
     */
    public EditResult edit(EditRequest request) throws IOException {
        return editor(Hyperparameters.roleEdits()).edit(model(), request);
    }

    /**
     * Encodes one text to float arrays; see {@link ClipTextModel#encode(ClipTokenizer, String)}.
     *
     * @param text the text
     * @return the encoding as float arrays
     */
    public EncodedText encode(String text) {
        return model().encode(tokenizer(), text);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Pretrained " + path + " is closed");
        }
    }

    /** Closes the model and every statistics object this object owns. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        statistics.values().forEach(CovarianceStats::close);
        statistics.clear();
        model.close();
    }

    @Override
    public synchronized String toString() {
        return closed ? "Pretrained[closed, " + path + "]" : "Pretrained[" + model + ", statistics for layers "
                + statistics.keySet() + ", " + cache + "]";
    }
}
