package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.ZeroShotClassifier;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.CellSpec;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.Datasets;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvaluationRunner;
import dev.refact.core.eval.ProbeScorer;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.SchedulerKind;
import dev.refact.diffusion.StableDiffusionPipeline;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.bytedeco.pytorch.Device;

/**
 * The {@link CellRecipe} of {@code eval-text}, {@code sweep} (text space) and {@code eval} (images): the command's
 * options as absolute paths and plain values.
 *
 * <p>Per JVM, loaded resources are kept in a pool keyed by the recipe: a task takes an idle copy (or loads a new
 * one when every copy is busy), computes its cell and puts the copy back. So a JVM running k tasks at once holds
 * k copies (an executor with {@code spark.executor.cores} = k, or {@code local[k]}); with one task per executor
 * (the GPU setting) it holds one. Copies live until the JVM exits.
 *
 * @param model     the text encoder (a diffusers root for {@code eval}), absolute
 * @param encoder   which text encoder of an SDXL checkpoint (1 or 2)
 * @param tokenizer the tokenizer folder, absolute, or {@code null} for the one beside the model / the bundled one
 * @param device    cpu, cuda or cuda:N
 * @param stats     the statistics file, possibly with {@code {layer}}, absolute; {@code null}: computed (and cached
 *                  under {@code $REFACT_CACHE}) on each machine
 * @param allowForeignStats {@code --allow-foreign-stats}: executors accept statistics computed on another model, as
 *                  the driver does
 * @param dataset   the RoAD/TIME CSV, absolute
 * @param projected text space: score with the projected end-token embedding
 * @param image     the image settings of {@code eval}, or {@code null} for text space
 * @param statsFiles statistics file per layer on this machine, used before {@code stats}: local copies of what the
 *                  driver computed when no {@code --stats} was given ({@link #statisticsToShip}); empty otherwise
 */
record EvalCells(String model, int encoder, String tokenizer, String device, String stats, boolean allowForeignStats,
                 String dataset, boolean projected, Image image, Map<Integer, String> statsFiles)
        implements CellRecipe {
    private static final long serialVersionUID = 1L;
    private static final Map<EvalCells, Deque<Loaded>> POOL = new ConcurrentHashMap<>();

    EvalCells {
        statsFiles = statsFiles == null ? Map.of() : Map.copyOf(statsFiles);
    }

    /** A recipe without shipped statistics files. */
    EvalCells(String model, int encoder, String tokenizer, String device, String stats, boolean allowForeignStats,
              String dataset, boolean projected, Image image) {
        this(model, encoder, tokenizer, device, stats, allowForeignStats, dataset, projected, image, Map.of());
    }

    /**
     * The image settings of {@code eval}.
     *
     * @param classifier          the CLIP classifier folder, absolute
     * @param classifierTokenizer its tokenizer, or {@code null}
     * @param steps               denoising steps
     * @param guidance            guidance scale
     * @param scheduler           scheduler name
     * @param height              image height
     * @param width               image width
     * @param dtype               UNet/VAE dtype name
     * @param attentionChunk      queries per attention chunk
     * @param images              where images are saved (absolute), or {@code null}
     * @param identity            the model and classifier fingerprints of the configuration
     */
    record Image(String classifier, String classifierTokenizer, int steps, double guidance, String scheduler,
                 int height, int width, String dtype, int attentionChunk, String images,
                 LinkedHashMap<String, String> identity) implements java.io.Serializable {
        private static final long serialVersionUID = 1L;

        GenerationOptions options() {
            return new GenerationOptions(steps, guidance, SchedulerKind.parse(scheduler), 0, height, width);
        }
    }

    static EvalCells text(ModelOptions m, Path stats, boolean allowForeignStats, Path dataset, boolean projected)
            throws IOException {
        return new EvalCells(abs(m.model), m.encoder, abs(m.tokenizerPath()), m.device, stats == null ? null : abs(stats),
                allowForeignStats, abs(dataset), projected, null);
    }

    @Override
    public EvalCells withDevice(String value) {
        return new EvalCells(model, encoder, tokenizer, java.util.Objects.requireNonNull(value, "device"), stats,
                allowForeignStats, dataset, projected, image, statsFiles);
    }

    /**
     * Without {@code --stats}: loads the text encoder here (on the driver), computes the on-the-fly statistics of
     * each layer into this JVM's statistics cache unless they are there already, and lists the cache files.
     */
    @Override
    public Map<Integer, Path> statisticsToShip(Set<Integer> layers, PrintWriter log) throws IOException {
        if (stats != null || layers.isEmpty()) {
            return Map.of();
        }
        ModelOptions m = options();
        ClipTokenizer tok = m.loadTokenizer();
        Map<Integer, Path> out = new TreeMap<>();
        try (ClipTextModel clip = m.loadModel()) {
            for (int layer : new TreeSet<>(layers)) {
                try {
                    out.put(layer, StatsSupport.onTheFlyFile(clip, tok, layer, log));
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                } catch (IllegalArgumentException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        }
        return out;
    }

    @Override
    public EvalCells withStatisticsFiles(Map<Integer, Path> files) {
        Map<Integer, String> named = new TreeMap<>();
        files.forEach((layer, file) -> named.put(layer, abs(file)));
        return new EvalCells(model, encoder, tokenizer, device, stats, allowForeignStats, dataset, projected, image,
                named);
    }

    private ModelOptions options() {
        ModelOptions m = new ModelOptions();
        m.model = Path.of(model);
        m.encoder = encoder;
        m.tokenizer = tokenizer == null ? null : Path.of(tokenizer);
        m.device = device;
        return m;
    }

    static String abs(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize().toString();
    }

    @Override
    public CellResult compute(CellSpec cell) throws IOException {
        Deque<Loaded> idle = POOL.computeIfAbsent(this, k -> new ConcurrentLinkedDeque<>());
        Loaded r = idle.pollFirst();
        if (r == null) {
            r = load();
        }
        try {
            return r.compute(cell);
        } finally {
            idle.addFirst(r);
        }
    }

    /** Loads one copy of everything a cell needs. */
    private Loaded load() throws IOException {
        ModelOptions m = options();
        Dataset d = Datasets.read(Path.of(dataset));
        ClipTokenizer tok = m.loadTokenizer();
        ZeroShotClassifier zs = null;
        StableDiffusionPipeline sd = null;
        if (image != null) {
            try (Device dev = Tensors.device(device)) {
                zs = ZeroShotClassifier.load(Path.of(image.classifier()),
                        image.classifierTokenizer() == null ? null : Path.of(image.classifierTokenizer()), dev);
                try {
                    sd = StableDiffusionPipeline.load(Path.of(model), GenerateCommand.parseDtype(image.dtype()), dev,
                            image.attentionChunk());
                } catch (IOException | RuntimeException e) {
                    zs.close();
                    throw e;
                }
            }
        }
        ClipTextModel clip;
        try {
            clip = m.loadModel();
        } catch (IOException | RuntimeException e) {
            if (zs != null) {
                zs.close();
                sd.close();
            }
            throw e;
        }
        ProbeScorer scorer = image == null ? ProbeScorer.textSpace(tok, projected)
                : new ImageScorer(sd, tok, zs, image.options(), image.identity(),
                image.images() == null ? null : Path.of(image.images()));
        return new Loaded(clip, tok, d, scorer);
    }

    /** One copy of the resources; used by one cell at a time. */
    private final class Loaded {
        private final ClipTextModel clip;
        private final ClipTokenizer tokenizer;
        private final Dataset data;
        private final ProbeScorer scorer;
        private final Map<Integer, CovarianceStats> statistics = new HashMap<>();

        Loaded(ClipTextModel clip, ClipTokenizer tokenizer, Dataset data, ProbeScorer scorer) {
            this.clip = clip;
            this.tokenizer = tokenizer;
            this.data = data;
            this.scorer = scorer;
        }

        CellResult compute(CellSpec cell) throws IOException {
            if (cell.row() >= data.size()) {
                throw new IOException(dataset + " has " + data.size() + " rows on this machine, no row " + cell.row()
                        + " (is it the driver's file?)");
            }
            EvalCase c = data.cases().get(cell.row());
            Hyperparameters hp = cell.settings();
            EvaluationRunner.Builder b = EvaluationRunner.builder().mode(cell.mode()).scorer(scorer);
            if (hp != null) {
                b.editor(tokenizer, statistics(hp.layer()), hp).allowStatisticsOfOtherModels(allowForeignStats);
            }
            if (scorer.seeded()) {
                b.seeds(List.of(cell.seed()));
            }
            return b.build().evaluateCell(clip, c, cell.seed());
        }

        private CovarianceStats statistics(int layer) throws IOException {
            CovarianceStats s = statistics.get(layer);
            if (s == null) {
                String shipped = statsFiles.get(layer);
                Path file = shipped != null ? Path.of(shipped)
                        : stats == null ? null : Path.of(stats.replace("{layer}", Integer.toString(layer)));
                try {
                    s = StatsSupport.loadOrCompute(file, clip, tokenizer, layer,
                            new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true),
                            allowForeignStats);
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                } catch (IllegalArgumentException e) {
                    throw new IOException(e.getMessage(), e);
                }
                statistics.put(layer, s);
            }
            return s;
        }
    }
}
