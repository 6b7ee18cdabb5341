package dev.refact.examples.bench;

import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Benchmark of the full-size (SD 1.x / ViT-L/14 text tower) encoder with seeded random weights: native start-up,
 * forward time at batch 1 and 8 × 77 tokens, peak RSS, and RSS over a long encode loop (native memory must stay
 * flat). Run: {@code java -cp refact-examples/target/refact.jar dev.refact.examples.bench.EncoderBench [loops]}.
 */
public final class EncoderBench {
    static final String USAGE = "usage: java -cp refact-examples/target/refact.jar "
            + "dev.refact.examples.bench.EncoderBench [loops]";

    private EncoderBench() {
    }

    /**
     * Runs the benchmark: argument [loops], as the class comment says. A bad command line is refused with a
     * one-line message on stderr and exit status 2.
     *
     * @param args optionally the number of encodes in the RSS loop (default 10,000; at least 1, RSS printed every
     *             fifth of them)
     */
    public static void main(String[] args) {
        int loops;
        try {
            loops = loops(args);
        } catch (IllegalArgumentException e) {
            BenchSupport.exitWithUsage(e);
            return;
        }
        long t0 = System.nanoTime();
        TorchRuntime.ensureLoaded();
        double loadMs = (System.nanoTime() - t0) / 1e6;
        System.out.println("machine: " + BenchSupport.machine());
        System.out.println("runtime: " + TorchRuntime.describe());
        System.out.printf(Locale.ROOT, "native load: %.0f ms (JVM up %.0f ms before main)%n", loadMs,
                (double) (java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime()) - loadMs);
        long g0 = System.nanoTime();
        try (ClipTextModel model = ClipTextModel.random(ClipTextConfig.SD15, 1234, false)) {
            System.out.printf(Locale.ROOT, "random full-size model: %.0f ms, RSS %.0f MiB (weights %.0f MiB)%n",
                    (System.nanoTime() - g0) / 1e6, BenchSupport.rssMiB(), 123_060_480 * 4 / 1048576.0);
            for (int batch : new int[] {1, 8}) {
                long[] ids = BenchSupport.ids(batch, 77, 42);
                long[] samples = new long[batch == 1 ? 30 : 10];
                for (int i = -3; i < samples.length; i++) {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = Tensors.longs(ids, model.device(), batch, 77);
                        long s = System.nanoTime();
                        try (TextEncoding enc = model.encode(t)) {
                            enc.pooled().sum().item_float();
                        }
                        if (i >= 0) {
                            samples[i] = System.nanoTime() - s;
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "forward batch %d x 77: %s; peak RSS %.0f MiB%n", batch,
                        BenchSupport.summarize(samples), BenchSupport.peakRssMiB());
            }
            double rssStart = BenchSupport.rssMiB();
            long s = System.nanoTime();
            for (int i = 0; i < loops; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor t = Tensors.longs(BenchSupport.ids(1, 16, i), model.device(), 1, 16);
                    try (TextEncoding enc = model.encode(t)) {
                        enc.pooled().sum().item_float();
                    }
                }
                if (reportAfter(i + 1, loops)) {
                    System.out.printf(Locale.ROOT, "loop %d/%d: RSS %.0f MiB (start %.0f), %.1f prompts/s%n", i + 1,
                            loops, BenchSupport.rssMiB(), rssStart, (i + 1) / ((System.nanoTime() - s) / 1e9));
                }
            }
        }
    }

    /**
     * Whether the RSS loop prints after {@code done} of {@code loops} encodes: every fifth of the loop (every encode
     * when there are fewer than 5).
     *
     * @param done  encodes done so far, at least 1
     * @param loops the loop's length, at least 1
     * @return {@code true} to print the RSS line now
     */
    static boolean reportAfter(int done, int loops) {
        return done % Math.max(1, loops / 5) == 0;
    }

    /**
     * The RSS loop count from the command line.
     *
     * @param args the main's arguments: nothing, or loops
     * @return loops (default 10,000), at least 1
     * @throws IllegalArgumentException one line with the usage, for a non-integer or loops &lt; 1 or extra arguments
     */
    static int loops(String[] args) {
        if (args.length > 1) {
            throw new IllegalArgumentException("expected at most 1 argument, got " + args.length + "; " + USAGE);
        }
        return BenchSupport.intArg(args, 0, "loops", 10_000, 1, USAGE);
    }
}
