package dev.refact.cli;

import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.ProgressListener;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.examples.bench.BenchSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code refact bench}: benchmarks a user can run on their own machine (see docs/benchmarks.md).
 *
 * <ul>
 *   <li>{@code bench encoder --model DIR [--reps N]}: text-encoder forward at 1 × 77 and 8 × 77 tokens (no
 *       gradients), medians; last stdout line {@code {"batch1_ms": …, "batch8_ms": …}}.</li>
 *   <li>{@code bench edit --model DIR --stats FILE [--steps N]}: one ReFACT edit with every v* step run (probability
 *       threshold 1), time per phase, per step, peak RSS; last stdout line JSON.</li>
 *   <li>{@code bench random-model --out DIR}: writes the full-size SD 1.x text encoder with seeded random weights
 *       ({@code DIR/text_encoder}) and, with {@code --tokenizer}, a copy of the tokenizer ({@code DIR/tokenizer}).</li>
 * </ul>
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: encoder forward speed, one edit's phases and peak RSS, a full-size random model.",
        subcommands = {BenchCommand.Encoder.class, BenchCommand.Edit.class, BenchCommand.RandomModel.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing benchmark: encoder, edit or random-model (see refact bench --help)");
    }

    static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** {@code refact bench encoder}. */
    @Command(name = "encoder", mixinStandardHelpOptions = true,
            description = "Forward time of the text encoder at 1 x 77 and 8 x 77 tokens (medians, no gradients).")
    static final class Encoder implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR",
                description = "Text encoder folder (diffusers root, text_encoder/ or CLIP folder).")
        Path model;

        @Option(names = "--reps", paramLabel = "N", description = "timed forwards per batch size (default: ${DEFAULT-VALUE})")
        int reps = 20;

        @Option(names = "--warmup", paramLabel = "N", description = "untimed forwards first (default: ${DEFAULT-VALUE})")
        int warmup = 3;

        @Override
        public Integer call() throws IOException {
            if (reps < 1 || warmup < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--reps must be >= 1 and --warmup >= 0");
            }
            PrintWriter out = spec.commandLine().getOut();
            long t0 = System.nanoTime();
            TorchRuntime.ensureLoaded();
            out.printf(Locale.ROOT, "machine: %s%nruntime: %s%nnative load: %.0f ms%n", BenchSupport.machine(),
                    TorchRuntime.describe(), (System.nanoTime() - t0) / 1e6);
            long l0 = System.nanoTime();
            JsonObject json = new JsonObject();
            try (ClipTextModel m = ClipTextModel.load(model)) {
                out.printf(Locale.ROOT, "model: %s, loaded in %.0f ms, RSS %.0f MiB%n", m, (System.nanoTime() - l0) / 1e6,
                        BenchSupport.rssMiB());
                int n = Math.min(77, m.config().maxPositionEmbeddings());
                for (int batch : new int[] {1, 8}) {
                    long[] samples = new long[reps];
                    long[] ids = BenchSupport.ids(batch, n, 42 + batch);
                    for (int i = -warmup; i < reps; i++) {
                        try (PointerScope scope = new PointerScope()) {
                            Tensor t = Tensors.longs(ids, m.device(), batch, n);
                            long s = System.nanoTime();
                            try (TextEncoding e = m.encode(t)) {
                                e.pooled().sum().item_float(); // wait for the result
                            }
                            if (i >= 0) {
                                samples[i] = System.nanoTime() - s;
                            }
                        }
                    }
                    out.printf(Locale.ROOT, "forward batch %d x %d: %s; peak RSS %.0f MiB%n", batch, n,
                            BenchSupport.summarize(samples), BenchSupport.peakRssMiB());
                    out.flush();
                    json.addProperty("batch" + batch + "_ms", round1(BenchSupport.medianMs(samples)));
                }
            }
            out.println(json);
            return 0;
        }
    }

    /** {@code refact bench edit}. */
    @Command(name = "edit", mixinStandardHelpOptions = true,
            description = "One ReFACT edit with all v* steps run: load, statistics, phases, per-step time, peak RSS.")
    static final class Edit implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Mixin
        ModelOptions model;

        @Option(names = "--stats", required = true, paramLabel = "FILE",
                description = "Covariance statistics at the edited layer (refact stats).")
        Path stats;

        @Option(names = "--steps", paramLabel = "N", description = "v* steps, all run (default: ${DEFAULT-VALUE})")
        int steps = 100;

        @Option(names = "--layer", paramLabel = "L", description = "edited layer (default: ${DEFAULT-VALUE})")
        int layer = 7;

        @Override
        public Integer call() throws IOException {
            if (steps < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be >= 1");
            }
            PrintWriter out = spec.commandLine().getOut();
            long t0 = System.nanoTime();
            TorchRuntime.ensureLoaded();
            out.printf(Locale.ROOT, "machine: %s%nruntime: %s%n", BenchSupport.machine(), TorchRuntime.describe());
            double nativeMs = (System.nanoTime() - t0) / 1e6;
            ClipTokenizer tokenizer = model.loadTokenizer();
            long l0 = System.nanoTime();
            JsonObject json = new JsonObject();
            try (ClipTextModel m = model.loadModel()) {
                double loadMs = (System.nanoTime() - l0) / 1e6;
                long s0 = System.nanoTime();
                try (CovarianceStats c = CovarianceStats.load(stats, m.device())) {
                    double statsMs = (System.nanoTime() - s0) / 1e6;
                    out.printf(Locale.ROOT, "native load %.0f ms, model %.0f ms, statistics %.0f ms; RSS %.0f MiB%n",
                            nativeMs, loadMs, statsMs, BenchSupport.rssMiB());
                    Hyperparameters hp = Hyperparameters.roleEdits().toBuilder().layer(layer).maxSteps(steps)
                            .probabilityThreshold(1.0).build();
                    List<Long> stepNanos = new ArrayList<>();
                    long[] last = {0};
                    Editor editor = Editor.builder().tokenizer(tokenizer).statistics(c).hyperparameters(hp)
                            .listener(new ProgressListener() {
                                @Override
                                public void step(EditRequest r, int step, double loss, double p) {
                                    long now = System.nanoTime();
                                    if (step > 0) {
                                        stepNanos.add(now - last[0]);
                                    }
                                    last[0] = now;
                                }
                            }).build();
                    EditRequest req = EditRequest.of("The President of the United States", "Donald Trump",
                            "Joe Biden");
                    long e0 = System.nanoTime();
                    EditResult r = editor.edit(m, req);
                    double editMs = (System.nanoTime() - e0) / 1e6;
                    long[] st = stepNanos.stream().mapToLong(Long::longValue).toArray();
                    StringBuilder phases = new StringBuilder();
                    JsonObject ph = new JsonObject();
                    for (Map.Entry<String, Duration> e : r.timings().entrySet()) {
                        double ms = e.getValue().toNanos() / 1e6;
                        phases.append(String.format(Locale.ROOT, "%s %.0f ms, ", e.getKey(), ms));
                        ph.addProperty(e.getKey() + "_ms", round1(ms));
                    }
                    out.printf(Locale.ROOT, "edit: %d steps (%s), %.2f s; phases: %s%n", r.steps(), r.stopReason(),
                            editMs / 1e3, phases.length() > 2 ? phases.substring(0, phases.length() - 2) : "");
                    if (st.length > 0) {
                        out.println("v* step: " + BenchSupport.summarize(st));
                    }
                    double peak = BenchSupport.peakRssMiB();
                    out.printf(Locale.ROOT, "peak RSS %.0f MiB (%.2f GiB)%n", peak, peak / 1024);
                    json.addProperty("load_ms", round1(loadMs));
                    json.addProperty("stats_ms", round1(statsMs));
                    json.addProperty("edit_ms", round1(editMs));
                    json.addProperty("steps", r.steps());
                    json.addProperty("step_ms", st.length > 0 ? round1(BenchSupport.medianMs(st)) : Double.NaN);
                    json.add("phases", ph);
                    json.addProperty("peak_rss_mib", Math.round(peak));
                }
            }
            out.println(json);
            return 0;
        }
    }

    /** {@code refact bench random-model}. */
    @Command(name = "random-model", mixinStandardHelpOptions = true,
            description = "Write the full-size SD 1.x text encoder (12 x 768, MLP 3072) with seeded random weights.")
    static final class RandomModel implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR",
                description = "Folder to write: DIR/text_encoder (config.json, model.safetensors), DIR/tokenizer.")
        Path out;

        @Option(names = "--seed", paramLabel = "N", description = "weight seed (default: ${DEFAULT-VALUE})")
        long seed = 1234;

        @Option(names = "--tokenizer", paramLabel = "DIR",
                description = "Tokenizer folder (vocab.json, merges.txt) to copy into DIR/tokenizer.")
        Path tokenizer;

        @Override
        public Integer call() throws IOException {
            Path te = out.resolve("text_encoder");
            try (ClipTextModel m = ClipTextModel.random(ClipTextConfig.SD15, seed, false)) {
                m.save(te);
            }
            if (tokenizer != null) {
                Path dst = Files.createDirectories(out.resolve("tokenizer"));
                for (String f : new String[] {"vocab.json", "merges.txt", "tokenizer_config.json",
                    "special_tokens_map.json"}) {
                    Path src = tokenizer.resolve(f);
                    if (Files.isRegularFile(src)) {
                        dev.refact.clip.io.AtomicFiles.write(dst.resolve(f), o -> Files.copy(src, o));
                    }
                }
            }
            spec.commandLine().getOut().println("wrote " + te + (tokenizer != null ? " and " + out.resolve("tokenizer")
                    : ""));
            return 0;
        }
    }
}
