package dev.refact.core.stats;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.MlpTrace;
import dev.refact.clip.testing.SharedData;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** The tiny fixture model, the real tokenizer, small corpora from the RoAD/TIME CSV prompts, a reference C. */
final class StatsFixtures {
    static final String MODEL = "models/tiny-random-clip-text";

    private StatsFixtures() {
    }

    static ClipTextModel model() {
        try {
            return ClipTextModel.load(SharedData.resolve(MODEL));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ClipTokenizer tokenizer() {
        try {
            return ClipTokenizer.load(SharedData.resolve("clip-tokenizer"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every non-empty cell (header row excluded) of the RoAD and TIME CSV files, in file order. */
    static List<String> prompts() {
        List<String> out = new ArrayList<>();
        for (String f : List.of("refact/road/RoAD_validation.csv", "refact/time/TIMED_validation_set.csv",
                "refact/time/TIMED_test_set.csv")) {
            try {
                List<String> lines = Files.readAllLines(SharedData.resolve(f), StandardCharsets.UTF_8);
                for (String line : lines.subList(1, lines.size())) {
                    for (String cell : csvCells(line)) {
                        if (!cell.isBlank()) {
                            out.add(cell);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** The cells of one CSV line (RFC 4180 quotes; no embedded newlines in these files). */
    static List<String> csvCells(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString());
        return cells;
    }

    /**
     * Brute-force reference: each text alone (batch 1, no padding), ids from {@code inputIds} cut at the real
     * length, every key's outer product added in Java doubles, divided by the number of keys. Row-major [i*i].
     */
    static double[] referenceMean(ClipTextModel model, ClipTokenizer tok, int layer, List<String> texts,
                                  int maxTokens, long[] countOut) {
        return referenceMean(model, tok, layer, texts, maxTokens, 1, countOut);
    }

    /**
     * As above, but the keys come from batches of {@code batch} texts padded (with 49407) to the batch's longest
     * text, as compute runs them; only each text's own positions are used. With the same batches the model
     * computes the same float32 keys, so this checks compute's masking and accumulation exactly.
     */
    static double[] referenceMean(ClipTextModel model, ClipTokenizer tok, int layer, List<String> texts,
                                  int maxTokens, int batch, long[] countOut) {
        List<String> used = texts.stream().filter(t -> !t.isBlank()).toList();
        int dim = model.config().intermediateSize();
        double[] c = new double[dim * dim];
        long count = 0;
        for (int from = 0; from < used.size(); from += batch) {
            List<String> group = used.subList(from, Math.min(used.size(), from + batch));
            int[] len = new int[group.size()];
            int n = 0;
            for (int g = 0; g < group.size(); g++) {
                len[g] = Math.min(tok.encode(group.get(g)).length + 2, maxTokens);
                n = Math.max(n, len[g]);
            }
            long[] ids = new long[group.size() * n];
            for (int g = 0; g < group.size(); g++) {
                System.arraycopy(tok.inputIds(group.get(g), maxTokens, Padding.END_TOKEN), 0, ids, g * n, n);
            }
            float[] keys;
            try (PointerScope scope = new PointerScope()) {
                Tensor t = Tensors.longs(ids, model.device(), group.size(), n);
                MlpTrace trace = model.traceMlp(t, layer);
                keys = Tensors.toFloats(trace.key());          // [g,n,i]
            }
            for (int g = 0; g < group.size(); g++) {
                for (int p = 0; p < len[g]; p++) {
                    int o = (g * n + p) * dim;
                    for (int a = 0; a < dim; a++) {
                        double ka = keys[o + a];
                        int row = a * dim;
                        for (int b = 0; b < dim; b++) {
                            c[row + b] += ka * keys[o + b];
                        }
                    }
                }
                count += len[g];
            }
        }
        for (int k = 0; k < c.length; k++) {
            c[k] /= count;
        }
        countOut[0] = count;
        return c;
    }

    /** max |a − b| / max |b|. */
    static double relativeError(double[] a, double[] b) {
        double diff = 0;
        double scale = 0;
        for (int k = 0; k < a.length; k++) {
            diff = Math.max(diff, Math.abs(a[k] - b[k]));
            scale = Math.max(scale, Math.abs(b[k]));
        }
        return diff / scale;
    }

    static double[] doubles(CovarianceStats stats) {
        return Tensors.toDoubles(stats.matrix());
    }
}
