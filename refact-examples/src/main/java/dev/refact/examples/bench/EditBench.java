package dev.refact.examples.bench;

import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.ProgressListener;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsProvenance;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One ReFACT edit on a full-size (SD 1.x text encoder shape) model with seeded random weights: time per phase
 * and per v* step, peak RSS; then {@code sequential} edits in a row with RSS. The statistics are second moments
 * of keys over random token sequences (cached before timing, as a user's statistics file would be).
 *
 * <p>Run: {@code java -cp refact-examples/target/refact.jar dev.refact.examples.bench.EditBench TOKENIZER_DIR
 * [steps] [sequential]}.
 */
public final class EditBench {
    static final String USAGE = "usage: java -cp refact-examples/target/refact.jar "
            + "dev.refact.examples.bench.EditBench TOKENIZER_DIR [steps >= 2] [sequential >= 0]";

    private EditBench() {
    }

    /** The parsed command line: tokenizer folder, v* step budget, sequential edits. */
    record Args(Path tokDir, int steps, int sequential) {
    }

    /**
     * Runs the benchmark: arguments TOKENIZER_DIR [steps] [sequential], as the class comment says. A bad command
     * line is refused with a one-line message on stderr and exit status 2.
     *
     * @param args a CLIP tokenizer folder, then optionally the v* step budget (default 100; at least 2) and the
     *             number of sequential edits (default 0)
     * @throws Exception if the tokenizer cannot be loaded or the edit fails
     */
    public static void main(String[] args) throws Exception {
        Args a;
        try {
            a = parse(args);
        } catch (IllegalArgumentException e) {
            BenchSupport.exitWithUsage(e);
            return;
        }
        Path tokDir = a.tokDir();
        int steps = a.steps();
        int sequential = a.sequential();
        TorchRuntime.ensureLoaded();
        System.out.println("machine: " + BenchSupport.machine());
        System.out.println("runtime: " + TorchRuntime.describe());
        ClipTokenizer tokenizer = ClipTokenizer.load(tokDir);
        int layer = 7;
        try (ClipTextModel model = ClipTextModel.random(ClipTextConfig.SD15, 1234, false);
             CovarianceStats stats = randomStats(model, layer, 64)) {
            long s = System.nanoTime();
            try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                stats.solve(Tensors.floats(new float[3072], model.device(), 3072)
                        .add(new org.bytedeco.pytorch.Scalar(1)));
            }
            System.out.printf(Locale.ROOT, "Cholesky of C (3072², float64): %.0f ms%n", (System.nanoTime() - s) / 1e6);
            Hyperparameters hp = Hyperparameters.roleEdits().toBuilder().maxSteps(steps).probabilityThreshold(1.0)
                    .build();
            long[] stepTimes = new long[steps + 1];
            long[] last = {0};
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp)
                    .listener(new ProgressListener() {
                        @Override
                        public void step(EditRequest r, int step, double loss, double p) {
                            long now = System.nanoTime();
                            if (step > 0 && step <= steps) {
                                stepTimes[step - 1] = now - last[0];
                            }
                            last[0] = now;
                        }
                    }).build();
            EditRequest req = EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden");
            for (int run = 0; run < 2; run++) {
                EditResult r = editor.edit(model, req);
                long total = r.timings().values().stream().mapToLong(Duration::toNanos).sum();
                System.out.printf(Locale.ROOT, "edit %d: %d steps (%s), total %.2f s, phases %s%n", run, r.steps(),
                        r.stopReason(), total / 1e9, phases(r.timings()));
                System.out.println("  v* step: " + BenchSupport.summarize(java.util.Arrays.copyOf(stepTimes, steps - 1)));
                System.out.printf(Locale.ROOT, "  peak RSS %.0f MiB%n", BenchSupport.peakRssMiB());
                r.undo();
            }
            if (sequential > 0) {
                Hyperparameters quick = hp.toBuilder().maxSteps(1).build();
                Editor seq = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(quick).build();
                double rss0 = BenchSupport.rssMiB();
                long t0 = System.nanoTime();
                for (int i = 0; i < sequential; i++) {
                    seq.edit(model, EditRequest.of("the object number " + i, "a cat", "a dog number " + i));
                    if ((i + 1) % Math.max(1, sequential / 10) == 0) {
                        System.out.printf(Locale.ROOT, "sequential %d: RSS %.0f MiB (start %.0f), %.2f s/edit%n", i + 1,
                                BenchSupport.rssMiB(), rss0, (System.nanoTime() - t0) / 1e9 / (i + 1));
                    }
                }
            }
        }
    }

    /**
     * The command line.
     *
     * @param args TOKENIZER_DIR [steps] [sequential]
     * @return the parsed arguments (steps default 100, sequential default 0)
     * @throws IllegalArgumentException one line with the usage, for a missing folder argument, a non-integer,
     *                                  steps &lt; 2, sequential &lt; 0 or extra arguments
     */
    static Args parse(String[] args) {
        if (args.length < 1 || args.length > 3) {
            throw new IllegalArgumentException("expected 1 to 3 arguments, got " + args.length + "; " + USAGE);
        }
        return new Args(Path.of(args[0]), BenchSupport.intArg(args, 1, "steps", 100, 2, USAGE),
                BenchSupport.intArg(args, 2, "sequential", 0, 0, USAGE));
    }

    private static String phases(Map<String, Duration> t) {
        StringBuilder b = new StringBuilder();
        t.forEach((k, v) -> b.append(k).append(' ').append(String.format(Locale.ROOT, "%.0f ms ", v.toNanos() / 1e6)));
        return b.toString().trim();
    }

    /** C from keys over {@code batches}×8 random 77-token sequences (+1e-3 damping for safety). */
    static CovarianceStats randomStats(ClipTextModel model, int layer, int batches) {
        int i = model.config().intermediateSize();
        try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard()) {
            Tensor acc = torch.zeros(new long[] {i, i}, Tensors.options(torch.ScalarType.Double, model.device()));
            long count = 0;
            for (int b = 0; b < batches; b++) {
                try (PointerScope s = new PointerScope()) {
                    Tensor ids = Tensors.longs(BenchSupport.ids(8, 77, b), model.device(), 8, 77);
                    try (MlpTrace t = model.traceMlp(ids, layer)) {
                        Tensor k = t.key().reshape(-1, i).to(torch.ScalarType.Double);
                        acc.add_(k.t().matmul(k));
                        count += k.size(0);
                    }
                }
            }
            Tensor c = acc.div(new org.bytedeco.pytorch.Scalar(count));
            return CovarianceStats.fromMatrix(c, layer, count,
                    new StatsProvenance(model.fingerprint(), layer, "random-token-sequences", "", count, "float64"),
                    model.device()).withDamping(1e-3);
        }
    }
}
