package dev.refact.core.stats;

import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Throughput of {@link CovarianceStats#compute} on a full-size random SD 1.5 text encoder (layer 7, 60 tokens per
 * text, batch 32), the setting of the paper's 100,000 WikiText-103 lines. Texts are WordNet glosses joined until
 * each is longer than 60 tokens (as almost every WikiText-103 paragraph line is). Not a test; run with
 * {@code java -cp ... dev.refact.core.stats.StatsBenchmark [texts] [batch]} and record in docs/benchmarks.md.
 */
public final class StatsBenchmark {
    private StatsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int texts = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        TorchRuntime.ensureLoaded();
        System.out.println(TorchRuntime.describe());
        ClipTokenizer tok = ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        List<String> corpus = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String gloss : Corpora.wordNetGlosses()) {
            line.append(gloss).append(". ");
            if (tok.encode(line.toString()).length > 60) {
                corpus.add(line.toString());
                line.setLength(0);
                if (corpus.size() == texts + batch) {
                    break;
                }
            }
        }
        try (ClipTextModel model = ClipTextModel.random(ClipTextConfig.SD15, 7, false)) {
            // warm-up: one batch
            CovarianceStats.compute(model, tok, 7, corpus.subList(0, batch), StatsOptions.builder().batchSize(batch)
                    .build(), null).close();
            long t0 = System.nanoTime();
            StatsProgress[] last = new StatsProgress[1];
            try (CovarianceStats s = CovarianceStats.compute(model, tok, 7, corpus.subList(batch, batch + texts),
                    StatsOptions.builder().batchSize(batch).build(), p -> last[0] = p)) {
                double sec = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "compute: %d texts, %d tokens, %.1f s, %.0f tokens/s (listener %.0f)%n",
                        texts, s.count(), sec, s.count() / sec, last[0].tokensPerSecond());
                double projected = 100_000 * 60 / (s.count() / sec);
                System.out.printf(Locale.ROOT, "projected 100,000 texts x 60 tokens: %.0f s = %.2f h%n", projected,
                        projected / 3600);
            }
            // the float64 accumulation alone, for one batch of keys [batch*60, 3072]
            try (PointerScope scope = new PointerScope()) {
                Tensor sum = torch.zeros(new long[] {3072, 3072}, Tensors.options(torch.ScalarType.Double,
                        model.device()));
                Tensor k = torch.randn(new long[] {(long) batch * 60, 3072}, Tensors.options(torch.ScalarType.Double,
                        model.device()));
                sum.addmm_(k.t(), k);
                int reps = 5;
                long a0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    sum.addmm_(k.t(), k);
                }
                double per = (System.nanoTime() - a0) / 1e9 / reps;
                System.out.printf(Locale.ROOT, "float64 addmm of %d keys: %.2f s per batch (%.0f tokens/s alone)%n",
                        batch * 60, per, batch * 60 / per);
            }
        }
    }
}
