package dev.refact.core.eval;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoding;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.tokenizer.Padding;
import dev.refact.clip.torch.Tensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Fast text-space evaluation of edits, no images: compares the model's embedding of each probe prompt with
 * the CLEAN model's embeddings of the probe's old/new texts (see {@link TwoWayProbe}).
 *
 * <p>Usage: {@link #reference(ClipTextModel, List)} on the clean model before editing (it embeds every class
 * text once), then {@link #score(ClipTextModel, Reference)} before and after the edit.
 *
 * <p>Embeddings are the projected end-token embeddings when the model has {@code text_projection} and
 * {@code projected} is set, else the pooled output.
 */
public final class TextSpaceEvaluator {
    private static final int BATCH = 32;
    private final ClipTokenizer tokenizer;
    private final boolean projected;

    /**
     * An evaluator using the given tokenizer and representation.
     *
     * @param tokenizer the model's tokenizer
     * @param projected use the projected end-token embedding when the model has {@code text_projection}, else
     *                  the pooled output
     * @throws NullPointerException if {@code tokenizer} is null
     */
    public TextSpaceEvaluator(ClipTokenizer tokenizer, boolean projected) {
        this.tokenizer = java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        this.projected = projected;
    }

    /** The clean class-text embeddings for a set of probes (plain arrays; no native memory). */
    public static final class Reference {
        private final List<TwoWayProbe> probes;
        private final Map<String, float[]> classEmbeddings;

        Reference(List<TwoWayProbe> probes, Map<String, float[]> classEmbeddings) {
            this.probes = List.copyOf(probes);
            this.classEmbeddings = classEmbeddings;
        }

        /**
         * The two-way probes, in dataset order.
         *
         * @return the probes given to {@link #reference}, as an unmodifiable list
         */
        public List<TwoWayProbe> probes() {
            return probes;
        }
    }

    /**
     * Embeds every old/new text of the probes with {@code cleanModel}.
     *
     * @param cleanModel the unedited text encoder (not changed)
     * @param probes     the probes to score later, in order
     * @return the class-text embeddings, copied to the Java heap (no native memory to release)
     */
    public Reference reference(ClipTextModel cleanModel, List<TwoWayProbe> probes) {
        LinkedHashSet<String> texts = new LinkedHashSet<>();
        for (TwoWayProbe p : probes) {
            texts.add(p.oldText());
            texts.add(p.newText());
        }
        return new Reference(probes, embed(cleanModel, new ArrayList<>(texts)));
    }

    /**
     * p(new) for every probe, in order, with prompts embedded by {@code model}.
     *
     * @param model the text encoder in the state to score (edited or not)
     * @param ref   the clean class-text embeddings from {@link #reference} of this evaluator
     * @return a new array of p(new) = softmax(100·cos) over {@code [oldText, newText]}, one per probe, in [0, 1]
     */
    public double[] score(ClipTextModel model, Reference ref) {
        List<String> prompts = new ArrayList<>(new LinkedHashSet<>(ref.probes.stream().map(TwoWayProbe::prompt).toList()));
        Map<String, float[]> e = embed(model, prompts);
        double[] out = new double[ref.probes.size()];
        for (int i = 0; i < out.length; i++) {
            TwoWayProbe p = ref.probes.get(i);
            float[] x = e.get(p.prompt());
            double cOld = 100 * cosine(x, ref.classEmbeddings.get(p.oldText()));
            double cNew = 100 * cosine(x, ref.classEmbeddings.get(p.newText()));
            double m = Math.max(cOld, cNew);
            double eo = Math.exp(cOld - m);
            double en = Math.exp(cNew - m);
            out[i] = en / (eo + en);
        }
        return out;
    }

    /**
     * Aggregates p(new) scores into efficacy, generalisation, specificity and F1.
     *
     * @param probes the probes scored
     * @param pNew   their p(new), aligned with {@code probes} (as from {@link #score})
     * @return the success rates per kind (NaN for a kind without probes) and the probe counts
     */
    public static TextSpaceMetrics metrics(List<TwoWayProbe> probes, double[] pNew) {
        int[] ok = new int[3];
        int[] all = new int[3];
        for (int i = 0; i < probes.size(); i++) {
            int k = probes.get(i).kind().ordinal();
            all[k]++;
            if (probes.get(i).success(pNew[i])) {
                ok[k]++;
            }
        }
        return new TextSpaceMetrics(rate(ok[0], all[0]), rate(ok[1], all[1]), rate(ok[2], all[2]), all[0], all[1],
                all[2]);
    }

    private static double rate(int ok, int all) {
        return all == 0 ? Double.NaN : (double) ok / all;
    }

    private Map<String, float[]> embed(ClipTextModel model, List<String> texts) {
        Map<String, float[]> out = new LinkedHashMap<>();
        int ctx = model.config().maxPositionEmbeddings();
        for (int from = 0; from < texts.size(); from += BATCH) {
            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + BATCH));
            int n = 1;
            long[][] rows = new long[chunk.size()][];
            for (int i = 0; i < chunk.size(); i++) {
                rows[i] = tokenizer.inputIds(chunk.get(i), ctx, Padding.END_TOKEN);
                n = Math.max(n, Math.min(ctx, tokenizer.encode(chunk.get(i)).length + 2));
            }
            long[] flat = new long[chunk.size() * n];
            for (int i = 0; i < chunk.size(); i++) {
                System.arraycopy(rows[i], 0, flat, i * n, n);
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor ids = Tensors.longs(flat, model.device(), chunk.size(), n);
                try (TextEncoding enc = model.encode(ids)) {
                    // encode already applied text_projection (when the model has one): what represent() would
                    Tensor rep = projected && enc.textEmbeds() != null ? enc.textEmbeds() : enc.pooled();
                    float[] all = Tensors.toFloats(rep);
                    for (float v : all) {
                        if (!Float.isFinite(v)) {   // a NaN score is an error, not a result
                            dev.refact.clip.torch.Finite.require(rep, "text encoder");
                        }
                    }
                    int w = all.length / chunk.size();
                    for (int i = 0; i < chunk.size(); i++) {
                        out.put(chunk.get(i), java.util.Arrays.copyOfRange(all, i * w, (i + 1) * w));
                    }
                }
            }
        }
        return out;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
