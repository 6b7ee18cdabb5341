package dev.refact.report;

import dev.refact.core.eval.DatasetKind;
import dev.refact.core.eval.EvalMode;
import dev.refact.core.eval.Metric;
import java.util.List;
import java.util.Optional;

/**
 * The paper's numbers (Arad, Orgad, Belinkov, NAACL 2024, arXiv 2306.00738), in percent, printed beside ours
 * for reference. Its protocol: Stable Diffusion 1.4 images (PNDM, 50 steps, guidance 7.5, 512×512), 25 seeds,
 * two-way softmax(100·cos) by OpenCLIP ViT-bigG-14 (laion2B).
 */
final class PaperResults {
    static final String PROTOCOL = "SD 1.4 images, 25 seeds, OpenCLIP ViT-bigG-14 classifier";

    /** One line of a paper table. */
    record Line(String dataset, String method, double efficacy, double generalisation, double specificity, double f1) {
        double get(Metric m) {
            return switch (m) {
                case EFFICACY -> efficacy;
                case GENERALISATION -> generalisation;
                case SPECIFICITY -> specificity;
                case F1 -> f1;
                default -> Double.NaN;
            };
        }
    }

    /** Table 1 (FID and CLIP score omitted). */
    static final List<Line> TABLE_1 = List.of(
            new Line("TIME", "ReFACT", 98.19, 88.02, 79.18, 83.48),
            new Line("TIME", "TIME method", 83.23, 64.08, 75.95, 69.76),
            new Line("TIME", "oracle", 97.04, 93.26, 95.68, 94.46),
            new Line("TIME", "baseline", 4.27, 6.21, 95.68, 24.37),
            new Line("RoAD", "ReFACT", 93.38, 86.80, 95.44, 91.01),
            new Line("RoAD", "TIME method", 52.18, 42.74, 75.36, 56.75),
            new Line("RoAD", "oracle", 98.13, 96.68, 99.36, 98.01),
            new Line("RoAD", "baseline", 1.15, 3.76, 99.36, 19.32));

    /** The ablation over N contrastive captions (method "N=…"). */
    static final List<Line> N_ABLATION = List.of(
            new Line("ablation", "N=0", 99.5, 71.0, 90.3, 79.5),
            new Line("ablation", "N=15", 100.0, 80.4, 86.8, 83.5),
            new Line("ablation", "N=20", 97.0, 81.5, 86.7, 84.0),
            new Line("ablation", "N=30", 100.0, 80.9, 87.0, 83.8),
            new Line("ablation", "N=50", 100.0, 80.8, 87.1, 83.8));

    private PaperResults() {
    }

    /** Table 1's lines for a dataset kind. */
    static List<Line> table1(DatasetKind kind) {
        return TABLE_1.stream().filter(l -> l.dataset().equals(kind.displayName())).toList();
    }

    /** Table 1's line for a dataset kind and method ("ReFACT", "oracle", "baseline"). */
    static Optional<Line> table1(DatasetKind kind, String method) {
        return table1(kind).stream().filter(l -> l.method().equals(method)).findFirst();
    }

    /** The paper's method name for a mode. */
    static String method(EvalMode mode) {
        return switch (mode) {
            case REFACT -> "ReFACT";
            case BASELINE -> "baseline";
            case ORACLE -> "oracle";
        };
    }

    /** The N ablation line for N, if the paper ran it. */
    static Optional<Line> ablation(int n) {
        return N_ABLATION.stream().filter(l -> l.method().equals("N=" + n)).findFirst();
    }
}
