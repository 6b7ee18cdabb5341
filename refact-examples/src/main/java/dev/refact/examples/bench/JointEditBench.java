package dev.refact.examples.bench;

import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.core.EditRequest;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.JointEditResult;
import dev.refact.core.JointOptions;
import dev.refact.core.stats.CovarianceStats;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Joint edits with batched v* searches on the full-size random SD 1.x text encoder: wall time per request for
 * n requests in one joint edit, against n = 1 (a single edit). Every search runs exactly {@code steps} Adam steps
 * (probability threshold 1.0), so the numbers compare equal work.
 *
 * <p>Run: {@code java -cp refact-examples/target/refact.jar dev.refact.examples.bench.JointEditBench TOKENIZER_DIR
 * [steps] [n...]} (default 10 steps, n = 1 8 32 128); {@code -Dbench.statsBatches=B} computes C from B×8 random
 * sequences instead of 64×8 (the timing does not depend on C's values, only its setup time does).
 */
public final class JointEditBench {
    static final String USAGE = "usage: java [-Dbench.statsBatches=B >= 1] -cp refact-examples/target/refact.jar "
            + "dev.refact.examples.bench.JointEditBench TOKENIZER_DIR [steps >= 1] [n >= 1 ...]";

    private JointEditBench() {
    }

    /** The parsed command line: tokenizer folder, Adam steps per request, request counts, statistics batches. */
    record Args(Path tokDir, int steps, List<Integer> ns, int statsBatches) {
    }

    /**
     * Runs the joint-edit benchmark of docs/benchmarks.md on the full-size random model. A bad command line is
     * refused with a one-line message on stderr and exit status 2.
     *
     * @param args tokenizer folder, then optionally the Adam steps per request (default 10) and the n values
     * @throws Exception if the model cannot be built or an edit fails
     */
    public static void main(String[] args) throws Exception {
        Args a;
        try {
            a = parse(args, System.getProperty("bench.statsBatches"));
        } catch (IllegalArgumentException e) {
            BenchSupport.exitWithUsage(e);
            return;
        }
        Path tokDir = a.tokDir();
        int steps = a.steps();
        List<Integer> ns = a.ns();
        TorchRuntime.ensureLoaded();
        System.out.println("machine: " + BenchSupport.machine());
        System.out.println("runtime: " + TorchRuntime.describe());
        ClipTokenizer tokenizer = ClipTokenizer.load(tokDir);
        int layer = 7;
        try (ClipTextModel model = ClipTextModel.random(ClipTextConfig.SD15, 1234, false);
             CovarianceStats stats = EditBench.randomStats(model, layer, a.statsBatches())) {
            Hyperparameters hp = Hyperparameters.roleEdits().toBuilder().maxSteps(steps).probabilityThreshold(1.0)
                    .build();
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
            // benchmark subjects are near-duplicates by design; the timing does not depend on the conditioning
            JointOptions options = JointOptions.defaults().withMaxCondition(Double.MAX_VALUE);
            editor.editJointly(model, requests(1, 1000), options).undo(); // warm-up
            for (int n : ns) {
                List<EditRequest> reqs = requests(n, 0);
                long t0 = System.nanoTime();
                JointEditResult r = editor.editJointly(model, reqs, options);
                long total = System.nanoTime() - t0;
                StringBuilder phases = new StringBuilder();
                for (var e : r.timings().entrySet()) {
                    phases.append(e.getKey()).append(' ')
                            .append(String.format(Locale.ROOT, "%.1f s ", e.getValue().toNanos() / 1e9));
                }
                System.out.printf(Locale.ROOT, "n %d: total %.1f s, per request %.2f s, %s| condition %.3g, "
                                + "max residual %.2e, steps %d, load %.1f, peak RSS %.0f MiB%n", n, total / 1e9,
                        total / 1e9 / n, phases, r.conditionNumber(), r.maxResidual(), r.outcomes().get(0).steps(),
                        BenchSupport.loadAverage(), BenchSupport.peakRssMiB());
                r.undo();
            }
        }
    }

    /**
     * The command line.
     *
     * @param args         TOKENIZER_DIR [steps] [n...]
     * @param statsBatches the {@code bench.statsBatches} system property, or {@code null} (64)
     * @return the parsed arguments (steps default 10, n default 1 8 32 128)
     * @throws IllegalArgumentException one line with the usage, for a missing folder argument, a non-integer,
     *                                  steps &lt; 1, an n &lt; 1 or statistics batches &lt; 1
     */
    static Args parse(String[] args, String statsBatches) {
        if (args.length < 1) {
            throw new IllegalArgumentException("expected TOKENIZER_DIR; " + USAGE);
        }
        int steps = BenchSupport.intArg(args, 1, "steps", 10, 1, USAGE);
        List<Integer> ns = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            ns.add(BenchSupport.intArg(args, i, "n", 0, 1, USAGE));
        }
        if (ns.isEmpty()) {
            ns = List.of(1, 8, 32, 128);
        }
        int batches = statsBatches == null ? 64
                : BenchSupport.intArg(new String[] {statsBatches}, 0, "bench.statsBatches", 64, 1, USAGE);
        return new Args(Path.of(args[0]), steps, List.copyOf(ns), batches);
    }

    /** n distinct subjects (two-word nouns from small lists) with distinct targets. */
    static List<EditRequest> requests(int n, int offset) {
        String[] a = {"red", "green", "blue", "old", "young", "tall", "small", "famous", "quiet", "happy", "dark",
            "bright", "wooden", "golden", "silver", "tiny"};
        String[] b = {"house", "tree", "dog", "cat", "car", "boat", "king", "queen", "painter", "doctor", "river",
            "mountain", "bridge", "tower", "garden", "horse"};
        List<EditRequest> out = new ArrayList<>();
        for (int i = offset; i < offset + n; i++) {
            String subject = "the " + a[i % a.length] + " " + b[(i / a.length) % b.length]
                    + (i >= a.length * b.length ? " number " + i : "");
            out.add(EditRequest.of(subject, "a photo", "a painting of " + b[(i + 3) % b.length]));
        }
        return out;
    }
}
