package dev.refact.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.Corpora;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import dev.refact.core.stats.StatsProgress;
import dev.refact.core.stats.StatsProvenance;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code refact stats}: computes the covariance statistics C = E[k kᵀ] of a layer's fc2 inputs over a text corpus
 * and saves them, or imports the {@code .npz} statistics of the released Python code.
 *
 * <p>Progress goes to stderr; a JSON summary (layer, count, texts, corpus, sha, seconds, tokens/s, output file)
 * to stdout. While computing, progress is checkpointed to {@code OUT.partial} every {@code --checkpoint-every}
 * texts; running the same command again after an interruption resumes from it. It is removed when {@code OUT}
 * has been written.
 */
@Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Compute the covariance statistics C = E[k k^T] of a layer's fc2 inputs over a text corpus "
                    + "(one sample per line; blank lines skipped), or import ROME/ReFACT .npz statistics.",
            "",
            "  refact stats --model DIR --layer 7 --corpus wikitext.txt --out layer7.stats.safetensors",
            "  refact stats --model DIR --layer 7 --out layer7.stats.safetensors      (built-in WordNet corpus)",
            "  refact stats --import mom2.npz --model DIR --layer 7 --out layer7.stats.safetensors",
        })
public final class StatsCommand implements Callable<Integer> {
    /** The {@code --corpus} value selecting the built-in corpus. */
    static final String BUILTIN_WORDNET = "builtin:wordnet";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions model;

    @Option(names = "--layer", required = true, paramLabel = "L", description = "0-based layer (7 for role edits, 9 for appearance edits)")
    int layer;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "statistics file to write (safetensors)")
    Path out;

    @Option(names = "--corpus", paramLabel = "FILE",
            description = "UTF-8 text file, one sample per line, or '" + BUILTIN_WORDNET + "' (the default: "
                    + "117,791 WordNet 3.1 glosses)")
    String corpus;

    @Option(names = "--import", paramLabel = "FILE.npz",
            description = "import statistics saved by the released Python code (mom2.mom2 sums, mom2.count) instead of computing")
    Path importNpz;

    @Option(names = "--samples", paramLabel = "N", description = "texts to use at most (default: ${DEFAULT-VALUE}, the paper's)")
    long samples = StatsOptions.DEFAULT_SAMPLE_LIMIT;

    @Option(names = "--batch", paramLabel = "N", description = "texts per forward pass (default: ${DEFAULT-VALUE})")
    int batch = StatsOptions.DEFAULT_BATCH_SIZE;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "tokens per text at most, start and end included (default: ${DEFAULT-VALUE}, the paper's)")
    int maxTokens = StatsOptions.DEFAULT_MAX_TOKENS;

    @Option(names = "--corpus-name", paramLabel = "NAME", description = "name recorded in the provenance (default: the file name)")
    String corpusName;

    @Option(names = "--checkpoint-every", paramLabel = "N",
            description = "texts between checkpoints to OUT.partial (default: ${DEFAULT-VALUE})")
    long checkpointEvery = StatsOptions.DEFAULT_CHECKPOINT_EVERY;

    @Override
    public Integer call() throws Exception {
        if (importNpz != null && corpus != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "use either --corpus or --import, not both");
        }
        Path target = out.toAbsolutePath();
        dev.refact.clip.io.AtomicFiles.checkWritable(out); // before any computation
        options(target, "check"); // flags checked before the model is loaded
        if (corpus != null && !corpus.equals(BUILTIN_WORDNET)) {
            dev.refact.clip.io.FileErrors.requireReadableFile(Path.of(corpus), "--corpus");
        }
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        JsonObject summary = new JsonObject();
        try (ClipTextModel m = model.loadModel()) {
            err.println("refact stats: " + m);
            err.flush();
            CovarianceStats stats;
            double tokensPerSecond;
            if (importNpz != null) {
                stats = CovarianceStats.importNpz(importNpz, m, layer);
                tokensPerSecond = Double.NaN;
            } else {
                Progress progress = new Progress(err);
                stats = compute(m, target, progress);
                tokensPerSecond = progress.last == null ? Double.NaN : progress.last.tokensPerSecond();
            }
            try (stats) {
                stats.save(target);
                StatsProvenance p = stats.provenance();
                summary.addProperty("layer", stats.layer());
                summary.addProperty("dim", stats.dim());
                summary.addProperty("count", stats.count());
                summary.addProperty("texts", p.texts());
                summary.addProperty("max_tokens", p.maxTokens());
                summary.addProperty("corpus", p.corpus());
                summary.addProperty("corpus_sha256", p.corpusSha256());
                summary.addProperty("model_fingerprint", p.modelFingerprint());
                summary.addProperty("dtype", p.dtype());
                summary.addProperty("seconds", round((System.nanoTime() - start) / 1e9));
                if (!Double.isNaN(tokensPerSecond)) {
                    summary.addProperty("tokens_per_second", round(tokensPerSecond));
                }
                summary.addProperty("out", target.toString());
            }
        }
        Files.deleteIfExists(partial(target));
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.println(new GsonBuilder().disableHtmlEscaping().create().toJson(summary));
        stdout.flush();
        return 0;
    }

    private CovarianceStats compute(ClipTextModel m, Path target, Progress progress) throws IOException {
        Iterable<String> texts;
        String name;
        if (corpus == null || corpus.equals(BUILTIN_WORDNET)) {
            texts = Corpora.wordNetGlosses();
            name = Corpora.WORDNET;
        } else {
            Path file = Path.of(corpus);
            texts = Corpora.lines(file);
            name = file.getFileName().toString();
        }
        StatsOptions options = options(target, name);
        ClipTokenizer tok = model.loadTokenizer();
        if (Files.exists(options.checkpoint())) {
            progress.err.println("refact stats: resuming from " + options.checkpoint());
        }
        progress.total = texts instanceof java.util.Collection<?> c ? Math.min(c.size(), samples) : samples;
        try {
            return CovarianceStats.compute(m, tok, layer, texts, options, progress::report);
        } finally {
            progress.close();
        }
    }

    private StatsOptions options(Path target, String name) {
        try {
            return StatsOptions.builder().batchSize(batch).maxTokens(maxTokens).sampleLimit(samples)
                    .corpusName(corpusName != null ? corpusName : name)
                    .checkpoint(partial(target)).checkpointEvery(checkpointEvery).build();
        } catch (IllegalArgumentException e) {
            // the library names its fields; the user typed flags
            String m = e.getMessage().replace("batchSize", "--batch").replace("maxTokens", "--max-tokens")
                    .replace("sampleLimit", "--samples").replace("corpusName", "--corpus-name")
                    .replace("checkpointEvery", "--checkpoint-every");
            throw new CommandLine.ParameterException(spec.commandLine(), m);
        }
    }

    static Path partial(Path target) {
        return target.resolveSibling(target.getFileName() + ".partial");
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /**
     * Progress on stderr: a bar over the texts on a terminal; otherwise a line at most every 2 seconds and at the
     * end; nothing with --quiet.
     */
    private static final class Progress {
        final PrintWriter err;
        StatsProgress last;
        long total = -1;
        private long lastPrint;
        private dev.refact.cli.Progress bar;

        Progress(PrintWriter err) {
            this.err = err;
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }

        void report(StatsProgress p) {
            last = p;
            if (dev.refact.cli.Progress.quiet()) {
                return;
            }
            if (dev.refact.cli.Progress.interactive()) {
                if (bar == null) {
                    bar = dev.refact.cli.Progress.start(err, "statistics", total, "texts");
                }
                bar.stepTo(p.texts());
                return;
            }
            long now = System.nanoTime();
            if (p.finished() || now - lastPrint > 2_000_000_000L) {
                lastPrint = now;
                err.println(String.format(Locale.ROOT, "refact stats: %,d texts, %,d tokens, %.1f s, %.0f tokens/s%s",
                        p.texts(), p.tokens(), p.seconds(), p.tokensPerSecond(), p.finished() ? " (done)" : ""));
                err.flush();
            }
        }
    }
}
