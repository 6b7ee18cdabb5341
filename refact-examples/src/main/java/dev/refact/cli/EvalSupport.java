package dev.refact.cli;

import com.google.gson.JsonObject;
import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellExecutor;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.DatasetIssue;
import dev.refact.core.eval.DatasetKind;
import dev.refact.core.eval.Datasets;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvalMode;
import dev.refact.core.eval.EvalProgress;
import dev.refact.core.eval.EvaluationListener;
import dev.refact.core.eval.Metric;
import dev.refact.core.eval.MetricSummary;
import dev.refact.core.eval.SequentialPoint;
import dev.refact.core.eval.SkippedRow;
import dev.refact.core.eval.SweepPoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import dev.refact.clip.io.TextFiles;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** What the evaluation commands share: dataset and row selection, editor settings, progress on stderr. */
final class EvalSupport {
    private EvalSupport() {
    }

    /** {@code --dataset} and {@code --rows}. */
    static final class DatasetOptions {
        @Option(names = "--dataset", required = true, paramLabel = "CSV",
                description = "A RoAD or TIME CSV (the format is detected from the header).")
        Path dataset;

        @Option(names = "--rows", paramLabel = "a..b",
                description = "Rows to evaluate, 0-based and inclusive: 3, 0..9, 0,2,5..7 (default: all).")
        String rows;

        Dataset read() throws IOException {
            return Datasets.read(dataset);
        }

        List<EvalCase> select(Dataset d) {
            if (rows == null) {
                return d.cases();
            }
            List<Integer> idx = Ranges.ints(rows, "--rows");
            for (int i : idx) {
                if (i >= d.size()) {
                    throw new IllegalArgumentException("--rows: row " + i + " is outside " + d.file().getFileName()
                            + " (" + d.size() + " rows, 0.." + (d.size() - 1) + ")");
                }
            }
            return idx.stream().map(d.cases()::get).toList();
        }
    }

    /** The editor settings of the evaluation commands. */
    static final class EditOptions {
        @Option(names = "--layer", paramLabel = "L",
                description = "Layer to edit (default: 7 for RoAD, 9 for TIME, the paper's; or the --hparams file's).")
        Integer layer;

        @Option(names = "--hparams", paramLabel = "FILE",
                description = "Hyperparameters JSON (ours or ReFACT's); the other flags override it.")
        Path hparams;

        @Option(names = "--preset", paramLabel = "NAME", description = "Hyperparameter preset instead of the dataset "
                + "kind's: role-edits, appearance-edits or released-code (the released ReFACT code: no contrastive "
                + "captions, at most 99 Adam updates for v_max_grad_steps = 100).")
        String preset;

        @Option(names = "--stats", paramLabel = "FILE",
                description = "Covariance statistics file (refact stats); default: computed on the fly.")
        Path stats;

        @Option(names = "--contrastive", paramLabel = "FILE",
                description = "Contrastive caption pool, one per line (default: the built-in captions).")
        Path contrastive;

        @Option(names = "--num-contrastive", paramLabel = "N", description = "N contrastive captions (default 20).")
        Integer numContrastive;

        @Option(names = "--allow-foreign-stats",
                description = "Use --stats even when its provenance names another model's fingerprint.")
        boolean allowForeignStats;

        @Option(names = "--steps", paramLabel = "N", description = "Maximum v* steps (default 100).")
        Integer steps;

        @Option(names = "--lr", paramLabel = "X", description = "Adam learning rate for v* (default 0.05).")
        Double lr;

        /** The hyperparameters: the file or the dataset kind's preset, then the flags. */
        Hyperparameters hyperparameters(DatasetKind kind) throws IOException {
            Hyperparameters.Builder b = builder(kind);
            try {
                if (layer != null) {
                    b.layer(layer);
                }
                if (steps != null) {
                    b.maxSteps(steps);
                }
                if (lr != null) {
                    b.learningRate(lr);
                }
                if (numContrastive != null) {
                    b.numContrastive(numContrastive);
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(HparamsFile.flagNames(e.getMessage()), e);
            }
            return b.build();
        }

        /** The base without the flags that a sweep varies (layer, N, lr stay as the file or preset has them). */
        Hyperparameters.Builder builder(DatasetKind kind) throws IOException {
            if (hparams != null && preset != null) {
                throw new IllegalArgumentException("give --preset or --hparams, not both");
            }
            Hyperparameters base = preset == null ? null : HparamsFile.preset(preset);
            Hyperparameters.Builder b = hparams != null
                    ? HparamsFile.read(hparams).toBuilder()
                    : base != null ? base.toBuilder()
                    : (kind == DatasetKind.TIME ? Hyperparameters.appearanceEdits() : Hyperparameters.roleEdits())
                    .toBuilder();
            if (contrastive != null) {
                List<String> lines = TextFiles.readNonBlankLines(contrastive, "--contrastive file");
                b.contrastivePool(lines);
            }
            if (steps != null) {
                b.maxSteps(steps);
            }
            return b;
        }
    }

    /** Prints dataset warnings to stderr (once per run). */
    static void printIssues(PrintWriter err, Dataset d) {
        long warnings = d.issues().stream().filter(i -> i.severity() == DatasetIssue.Severity.WARNING).count();
        if (warnings > 0) {
            err.println("refact: " + d.file().getFileName() + ": " + warnings
                    + " dataset warning(s), listed in the report");
            err.flush();
        }
    }

    /**
     * The executor of the launcher's {@link CellBackend} for this command's cells, or {@code null} when the command
     * computes them itself ({@code bin/refact}).
     */
    static CellExecutor executor(RefactCommand parent, RecipeSupplier recipe) throws IOException {
        return parent == null || parent.backend == null ? null : parent.backend.executor(recipe.get());
    }

    /**
     * With a backend the text encoder this JVM loads is only fingerprinted (the executors load their own copies
     * on the recipe's device), so it goes on the CPU: a driver needs no GPU. The fingerprint does not depend on
     * the device.
     */
    static void driverOnCpu(CellExecutor remote, ModelOptions model) {
        if (remote != null) {
            model.device = "cpu";
        }
    }

    /** Builds a recipe (may resolve paths). */
    interface RecipeSupplier {
        CellRecipe get() throws IOException;
    }

    /** Refuses an oracle run in which no requested row has oracle prompts. */
    static void checkOracle(EvalMode mode, Dataset d, List<EvalCase> rows) {
        if (mode == EvalMode.ORACLE && rows.stream().noneMatch(EvalCase::hasOracle)) {
            throw new IllegalArgumentException("oracle mode: none of the " + rows.size() + " requested rows of "
                    + d.file().getFileName() + " has oracle prompts (" + (d.kind() == DatasetKind.ROAD
                    ? "RoAD needs the Oracle and Positive_oracle1..5 columns; the validation file has no "
                    + "Positive_oracle columns" : "TIME rows need new and gt1..5") + ")");
        }
    }

    /** Progress on stderr: skipped rows and warnings at once, cells at most about once a second, with ETA. */
    static EvaluationListener progress(PrintWriter err, String what) {
        return new EvaluationListener() {
            private final long start = System.nanoTime();
            private Progress bar;

            @Override
            public void started(EvalProgress p) {
                if (bar != null) {
                    bar.close();
                }
                bar = Progress.start(err, what, p.total(), "cells", p.elapsed());
                if (p.resumed() > 0) {
                    err.printf(Locale.ROOT, "refact: %s: resuming, %d of %d cells already in the results "
                            + "file%n", what, p.resumed(), p.total());
                }
            }

            @Override
            public void skipped(SkippedRow row) {
                err.println("refact: skipping " + row.label() + ": " + row.reason());
            }

            @Override
            public void warning(String message) {
                err.println("refact: warning: " + message);
            }

            @Override
            public void cellDone(EvalCase row, CellResult cell, EvalProgress p) {
                if (cell.failed()) {
                    err.println("refact: " + row.label() + ", seed " + cell.seed() + ": " + cell.error());
                }
                report(p);
            }

            @Override
            public void sequentialPoint(SequentialPoint point, EvalProgress p) {
                MetricSummary m = point.metrics().overall();
                err.printf(Locale.ROOT, "refact: %s: %d edits, %d rows scored: efficacy %s, generalisation "
                        + "%s, specificity %s, F1 %s%n", what, point.edits(), point.rowsEdited(), pct(m, Metric.EFFICACY),
                        pct(m, Metric.GENERALISATION), pct(m, Metric.SPECIFICITY), pct(m, Metric.F1));
            }

            @Override
            public void sweepPoint(SweepPoint point, int index, int total) {
                err.printf(Locale.ROOT, "refact: sweep setting %d/%d done (layer %d, N %d, lr %s), %.1f s "
                        + "elapsed%n", index + 1, total, point.layer(), point.numContrastive(),
                        Double.toString(point.learningRate()), (System.nanoTime() - start) / 1e9);
            }

            private void report(EvalProgress p) {
                if (bar == null) {
                    bar = Progress.start(err, what, p.total(), "cells", p.elapsed());
                }
                bar.stepTo(p.done());
            }
        };
    }

    static String pct(MetricSummary m, Metric k) {
        return m.get(k).map(v -> String.format(Locale.ROOT, "%.2f", 100 * v.mean())).orElse("n/a");
    }

    /** Overall means as a JSON object (percent; null when absent). */
    static JsonObject json(MetricSummary m) {
        JsonObject o = new JsonObject();
        for (Metric k : Metric.values()) {
            var v = m.get(k);
            if (v.isPresent()) {
                o.addProperty(k.key(), 100 * v.get().mean());
            } else {
                o.add(k.key(), com.google.gson.JsonNull.INSTANCE);
            }
        }
        o.addProperty("cells", m.cells());
        return o;
    }
}
