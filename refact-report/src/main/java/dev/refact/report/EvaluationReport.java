package dev.refact.report;

import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellResult;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.DatasetIssue;
import dev.refact.core.eval.EditSummary;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvalMode;
import dev.refact.core.eval.EvaluationResult;
import dev.refact.core.eval.EvaluationSetup;
import dev.refact.core.eval.Metric;
import dev.refact.core.eval.MetricSummary;
import dev.refact.core.eval.MetricValue;
import dev.refact.core.eval.MetricsReport;
import dev.refact.core.eval.RowMetrics;
import dev.refact.core.eval.SequentialPoint;
import dev.refact.core.eval.SequentialResult;
import dev.refact.core.eval.SweepPoint;
import dev.refact.core.eval.SweepResult;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes evaluation reports: markdown for people, CSV for tools, PNG charts; the paper's numbers are printed
 * beside ours, labelled as the paper's (and, for text-space runs, as a different protocol).
 *
 * <p>A plain library class: call it with the results of {@code EvaluationRunner} / {@code SweepRunner} (the CLI
 * and the Spark module do). It lives outside refact-core so the core library needs no AWT: charts are drawn with
 * JFreeChart, CSV is written by Apache Commons CSV (fields with a comma, quote, {@code \r} or {@code \n} are
 * quoted).
 *
 * <p>All numbers are percentages. Files are written atomically (temporary file, then rename).
 * <ul>
 *   <li>{@link #write}: {@code report.md}, {@code metrics.csv} (overall and per row, after and before, with the
 *       paper's Table 1 lines marked {@code source=paper}), {@code metrics.png} (grouped bars).</li>
 *   <li>{@link #writeSequential}: {@code sequential.md}, {@code sequential.csv} (one line per curve point),
 *       {@code sequential.png} (line plot).</li>
 *   <li>{@link #writeSweep}: {@code sweep.md}, {@code sweep.csv} (one line per setting).</li>
 * </ul>
 */
public final class EvaluationReport {
    private static final List<Metric> MAIN = List.of(Metric.EFFICACY, Metric.GENERALISATION, Metric.SPECIFICITY,
            Metric.F1);
    private static final List<Metric> STRICT = List.of(Metric.EFFICACY_75, Metric.EFFICACY_90,
            Metric.GENERALISATION_75, Metric.GENERALISATION_90, Metric.SPECIFICITY_75, Metric.SPECIFICITY_90);

    private EvaluationReport() {
    }

    /**
     * Writes {@code report.md}, {@code metrics.csv} and {@code metrics.png} into {@code dir} (created if needed).
     * A chart that cannot be drawn (e.g. no fonts on a headless system) is noted in the markdown, not fatal.
     *
     * @param r   the evaluation result to report
     * @param dir the output folder; existing report files in it are replaced
     * @return the files written ({@code metrics.png} only if the chart was drawn, then {@code report.md},
     *         {@code metrics.csv})
     * @throws IOException if the folder cannot be created or a file cannot be written
     */
    public static List<Path> write(EvaluationResult r, Path dir) throws IOException {
        return write(r, dir, Map.of());
    }

    /**
     * Like {@link #write(EvaluationResult, Path)}, with an "Images" section linking one picture per row (e.g. a
     * grid of the row's generated images, probes × seeds).
     *
     * @param r         the evaluation result to report
     * @param dir       the output folder; existing report files in it are replaced
     * @param rowImages row index → image file (linked relative to {@code dir} when inside it); not {@code null},
     *                  no {@code null} keys or values
     * @return the files written (the image files are not among them)
     * @throws IOException               if the folder cannot be created or a file cannot be written
     * @throws IndexOutOfBoundsException if a key of {@code rowImages} is not a row of the dataset (checked, like
     *                                   everything else, before the folder is created or any file is written)
     * @throws NullPointerException      naming the argument, or the row of {@code rowImages}, that is {@code null}
     */
    public static List<Path> write(EvaluationResult r, Path dir, Map<Integer, Path> rowImages) throws IOException {
        Objects.requireNonNull(r, "r");
        Objects.requireNonNull(dir, "dir");
        String images = images(r, dir, Objects.requireNonNull(rowImages, "rowImages")); // all checks before writing
        String csv = csv(r);
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        String chartNote = chart(r, dir.resolve("metrics.png"));
        if (chartNote == null) {
            out.add(dir.resolve("metrics.png"));
        }
        out.add(writeText(dir.resolve("report.md"), markdown(r, chartNote) + images));
        out.add(writeText(dir.resolve("metrics.csv"), csv));
        return out;
    }

    /** The "Images" section for {@code rowImages} ("" when empty), refusing keys that are not rows first. */
    private static String images(EvaluationResult r, Path dir, Map<Integer, Path> rowImages) {
        if (rowImages.isEmpty()) {
            return "";
        }
        int rows = r.setup().dataset().cases().size();
        Map<Integer, Path> sorted = new java.util.TreeMap<>();
        for (Map.Entry<Integer, Path> e : rowImages.entrySet()) {
            Integer row = Objects.requireNonNull(e.getKey(), "rowImages has a null row");
            if (row < 0 || row >= rows) {
                throw new IndexOutOfBoundsException("rowImages: row " + row + " is not a row of the dataset "
                        + r.setup().dataset().file().getFileName() + " (rows 0 to " + (rows - 1) + ")");
            }
            sorted.put(row, Objects.requireNonNull(e.getValue(), "rowImages: the image of row " + row + " is null"));
        }
        StringBuilder md = new StringBuilder("## Images\n\n");
        Path base = dir.toAbsolutePath();
        for (Map.Entry<Integer, Path> e : sorted.entrySet()) {
            Path p = e.getValue().toAbsolutePath();
            String link = p.startsWith(base) ? base.relativize(p).toString().replace('\\', '/') : p.toString();
            EvalCase c = r.row(e.getKey());
            md.append("### row ").append(e.getKey()).append(": ").append(esc(c.prompt() + " → " + c.target()))
                    .append("\n\n![row ").append(e.getKey()).append("](").append(link).append(")\n\n");
        }
        return md.toString();
    }

    /**
     * The markdown report of a run (what {@code report.md} contains, referring to {@code metrics.png}).
     *
     * @param r the evaluation result to report
     * @return the markdown text; nothing is written
     */
    public static String markdown(EvaluationResult r) {
        return markdown(r, null);
    }

    // ---------------------------------------------------------------- single run

    private static String markdown(EvaluationResult r, String chartNote) {
        EvaluationSetup s = r.setup();
        boolean text = s.space().equals("text");
        boolean seeds = s.seeds().size() > 1;
        StringBuilder md = new StringBuilder();
        md.append("# ReFACT evaluation: ").append(s.dataset().file().getFileName()).append(" (")
                .append(s.datasetName()).append("), mode ").append(s.mode().key()).append(", ")
                .append(text ? "text space" : "images").append("\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| dataset | ").append(esc(s.dataset().file().getFileName().toString())).append(" (")
                .append(s.datasetName()).append(", ").append(s.dataset().size()).append(" rows; sha256 ")
                .append(s.datasetSha256(), 0, 12).append("…) |\n");
        long failedRows = r.failed().stream().mapToInt(CellResult::row).distinct().count();
        md.append("| rows | ").append(s.rows().size()).append(" requested (").append(rowRange(s.rows()))
                .append("), ").append(r.skipped().size()).append(" skipped, ").append(failedRows)
                .append(" with a failed edit |\n");
        md.append("| seeds | ").append(text ? "none (text space is deterministic; one cell per row)"
                : seedRange(s.seeds())).append(" |\n");
        md.append("| model | ").append(esc(s.modelSource())).append(" (fingerprint ")
                .append(s.modelFingerprint(), 0, Math.min(12, s.modelFingerprint().length())).append("…) |\n");
        md.append("| scorer | ").append(esc(String.join("; ", s.scorer().entrySet().stream()
                .map(e -> e.getKey().equals("scorer") ? e.getValue() : e.getKey() + ": " + e.getValue()).toList())))
                .append(" |\n");
        if (s.hyperparameters() != null) {
            md.append("| edit | ").append(esc(describe(s.hyperparameters()))).append(" |\n");
            md.append("| statistics | ").append(esc(s.statisticsId())).append(" |\n");
        }
        if (s.resultsFile() != null) {
            md.append("| results | ").append(esc(s.resultsFile().getFileName().toString())).append(" (")
                    .append(r.cells().size()).append(" cells: ").append(r.computed()).append(" computed by this run, ")
                    .append(r.resumed()).append(" read back) |\n");
        }
        md.append('\n');

        MetricsReport after = r.cells().stream().anyMatch(c -> !c.failed()) ? r.metrics() : null;
        Optional<MetricsReport> before = r.metricsBefore();
        md.append("## Overall (percent").append(seeds ? ", mean ± std over seeds" : "").append(")\n\n");
        if (after == null) {
            md.append("No cell was scored").append(r.skipped().isEmpty() ? "" : " (every row was skipped, see below)")
                    .append(".\n\n");
        }
        md.append("| | Efficacy | Generalisation | Specificity | F1 |\n|---|---|---|---|---|\n");
        String ours = switch (s.mode()) {
            case REFACT -> "**ours: after the edit**";
            case BASELINE -> "**ours: baseline (unedited)**";
            case ORACLE -> "**ours: oracle prompts (unedited)**";
        };
        if (after != null) {
            md.append("| ").append(ours);
            MAIN.forEach(m -> md.append(" | ").append(fmt(after.overall(), m, seeds)));
            md.append(" |\n");
        }
        before.ifPresent(b -> {
            md.append("| ours: before the edit (clean model)");
            MAIN.forEach(m -> md.append(" | ").append(fmt(b.overall(), m, seeds)));
            md.append(" |\n");
        });
        String method = PaperResults.method(s.mode());
        for (PaperResults.Line l : PaperResults.table1(s.dataset().kind())) {
            boolean match = l.method().equals(method);
            md.append("| paper Table 1: ").append(l.dataset()).append(", ").append(l.method())
                    .append(match ? " (same mode)" : "").append(" †");
            MAIN.forEach(m -> md.append(" | ").append(String.format(Locale.ROOT, "%.2f", l.get(m))));
            md.append(" |\n");
        }
        md.append("\n† The paper's Table 1 (").append(PaperResults.PROTOCOL).append("; its own evaluation split). ");
        if (text) {
            md.append("**Not comparable:** ours are text-space two-way tests of this text encoder (no images, "
                    + "different model and protocol); the paper's numbers are shown for scale only.");
        } else {
            md.append("Ours use this run's diffusion model and classifier (see the scorer line), so differences in "
                    + "model, classifier or seeds change the numbers.");
        }
        md.append("\n\n");
        if (chartNote == null) {
            md.append("![metrics](metrics.png)\n\n");
        } else {
            md.append("(Chart not drawn: ").append(esc(chartNote)).append(")\n\n");
        }
        if (after != null) {
            md.append("## Strict variants (success probability > 0.75 / > 0.9, percent)\n\n");
            md.append("| | Eff. >0.75 | Eff. >0.9 | Gen. >0.75 | Gen. >0.9 | Spec. >0.75 | Spec. >0.9 |\n"
                    + "|---|---|---|---|---|---|---|\n");
            md.append("| ").append(ours.replace("**", ""));
            STRICT.forEach(m -> md.append(" | ").append(fmt(after.overall(), m, seeds)));
            md.append(" |\n");
            before.ifPresent(b -> {
                md.append("| ours: before the edit");
                STRICT.forEach(m -> md.append(" | ").append(fmt(b.overall(), m, seeds)));
                md.append(" |\n");
            });
            md.append('\n');
        }
        List<EditSummary> edits = edits(r);
        if (!edits.isEmpty()) {
            md.append("## Edits\n\n");
            md.append(editSummary(edits)).append("\n\n");
        }
        if (after != null) {
            md.append("## Per row (percent").append(seeds ? ", mean ± std over seeds" : "").append(")\n\n");
            md.append("| row | edit | Efficacy | Generalisation | Specificity | F1 |");
            if (before.isPresent()) {
                md.append(" F1 before |");
            }
            if (!edits.isEmpty()) {
                md.append(" steps | stop |");
            }
            md.append('\n').append("|---".repeat(6 + (before.isPresent() ? 1 : 0) + (edits.isEmpty() ? 0 : 2)))
                    .append("|\n");
            for (RowMetrics rm : after.rows()) {
                EvalCase c = r.row(rm.row());
                md.append("| ").append(rm.row()).append(" | ").append(esc(c.prompt() + " → " + c.target()));
                MAIN.forEach(m -> md.append(" | ").append(fmt(rm.summary(), m, seeds)));
                if (before.isPresent()) {
                    md.append(" | ").append(before.get().rows().stream().filter(x -> x.row() == rm.row()).findFirst()
                            .map(x -> fmt(x.summary(), Metric.F1, false)).orElse("–"));
                }
                if (!edits.isEmpty()) {
                    Optional<EditSummary> e = r.cells().stream().filter(x -> x.row() == rm.row() && x.edit() != null)
                            .map(CellResult::edit).findFirst();
                    md.append(" | ").append(e.map(x -> Integer.toString(x.steps())).orElse("–")).append(" | ")
                            .append(e.map(EditSummary::stopReason).orElse("–"));
                }
                md.append(" |\n");
            }
            md.append('\n');
        }
        if (!r.skipped().isEmpty()) {
            md.append("## Skipped rows\n\n");
            r.skipped().forEach(x -> md.append("- ").append(esc(x.label())).append(": ").append(esc(x.reason()))
                    .append('\n'));
            md.append('\n');
        }
        if (!r.failed().isEmpty()) {
            md.append("## Failed cells\n\n");
            r.failed().forEach(x -> md.append("- row ").append(x.row()).append(", seed ").append(x.seed()).append(": ")
                    .append(esc(x.error())).append('\n'));
            md.append('\n');
        }
        issues(md, s.dataset());
        return md.toString();
    }

    private static void issues(StringBuilder md, Dataset d) {
        List<DatasetIssue> warnings = d.issues().stream()
                .filter(i -> i.severity() == DatasetIssue.Severity.WARNING).toList();
        if (!warnings.isEmpty()) {
            md.append("## Dataset warnings\n\n");
            warnings.forEach(i -> md.append("- line ").append(i.line()).append(": ").append(esc(i.message()))
                    .append('\n'));
            md.append('\n');
        }
    }

    private static List<EditSummary> edits(EvaluationResult r) {
        List<EditSummary> out = new ArrayList<>();
        int last = -1;
        for (CellResult c : r.cells()) {
            if (c.edit() != null && c.row() != last) {
                out.add(c.edit());
                last = c.row();
            }
        }
        return out;
    }

    private static String editSummary(List<EditSummary> edits) {
        double steps = edits.stream().mapToInt(EditSummary::steps).average().orElse(Double.NaN);
        long conv = edits.stream().filter(EditSummary::converged).count();
        double p = edits.stream().mapToDouble(EditSummary::targetProbability).average().orElse(Double.NaN);
        double ms = edits.stream().mapToDouble(EditSummary::millis).average().orElse(Double.NaN);
        return String.format(Locale.ROOT, "%d edits: mean %.1f v* steps, %d converged (p(target) above the "
                + "threshold), %d stopped at the step cap; mean final p(target) %.4f; mean edit time %.2f s.",
                edits.size(), steps, conv, edits.size() - conv, p, ms / 1000);
    }

    private static String chart(EvaluationResult r, Path png) {
        EvaluationSetup s = r.setup();
        if (r.cells().stream().allMatch(CellResult::failed)) {
            return "no scored cells";
        }
        List<Charts.Series> series = new ArrayList<>();
        boolean seeds = s.seeds().size() > 1;
        MetricsReport after = r.metrics();
        String ours = switch (s.mode()) {
            case REFACT -> "ours: after edit";
            case BASELINE -> "ours: baseline";
            case ORACLE -> "ours: oracle";
        };
        series.add(series(ours, Charts.PALETTE[0], after.overall(), seeds));
        r.metricsBefore().ifPresent(b -> series.add(series("ours: before edit", Charts.PALETTE[1], b.overall(), false)));
        int color = 2;
        for (String m : List.of("ReFACT", "oracle", "baseline")) {
            Optional<PaperResults.Line> l = PaperResults.table1(s.dataset().kind(), m);
            if (l.isPresent()) {
                double[] v = MAIN.stream().mapToDouble(x -> l.get().get(x)).toArray();
                series.add(new Charts.Series("paper: " + m + " (" + (s.space().equals("text") ? "images, "
                        + "not comparable" : "images") + ")", Charts.PALETTE[color++], v, null));
            }
        }
        String title = "ReFACT evaluation: " + s.datasetName() + " (" + s.dataset().file().getFileName() + "), mode "
                + s.mode().key() + ", " + (s.space().equals("text") ? "text space" : "images");
        String subtitle = s.rows().size() - r.skipped().size() + " rows" + (seeds ? " × " + s.seeds().size()
                + " seeds, error bars: std over seeds" : "") + "; paper: " + PaperResults.PROTOCOL;
        try {
            Charts.bars(title, subtitle, List.of("Efficacy", "Generalisation", "Specificity", "F1"), series, png);
            return null;
        } catch (IOException | RuntimeException | java.awt.AWTError | LinkageError | InternalError e) {
            return e.toString();
        }
    }

    private static Charts.Series series(String name, Color c, MetricSummary m, boolean std) {
        double[] v = MAIN.stream().mapToDouble(x -> m.get(x).map(mv -> 100 * mv.mean()).orElse(Double.NaN)).toArray();
        double[] sd = std ? MAIN.stream().mapToDouble(x -> m.get(x).map(mv -> 100 * mv.std()).orElse(Double.NaN))
                .toArray() : null;
        return new Charts.Series(name, c, v, sd);
    }

    private static String csv(EvaluationResult r) {
        CsvTable csv = new CsvTable();
        csv.row("source", "scope", "row", "label", "phase", "cells");
        for (Metric m : Metric.values()) {
            csv.add(m.key(), m.key() + "_std");
        }
        boolean any = r.cells().stream().anyMatch(c -> !c.failed());
        String phase = r.setup().mode() == EvalMode.REFACT ? "after" : r.setup().mode().key();
        if (any) {
            MetricsReport after = r.metrics();
            Optional<MetricsReport> before = r.metricsBefore();
            csvLine(csv, "ours", "overall", "", "", phase, after.overall());
            before.ifPresent(b -> csvLine(csv, "ours", "overall", "", "", "before", b.overall()));
            for (RowMetrics rm : after.rows()) {
                EvalCase c = r.row(rm.row());
                csvLine(csv, "ours", "row", Integer.toString(rm.row()), c.prompt() + " → " + c.target(), phase,
                        rm.summary());
                before.flatMap(b -> b.rows().stream().filter(x -> x.row() == rm.row()).findFirst())
                        .ifPresent(x -> csvLine(csv, "ours", "row", Integer.toString(rm.row()),
                                c.prompt() + " → " + c.target(), "before", x.summary()));
            }
        }
        for (PaperResults.Line l : PaperResults.table1(r.setup().dataset().kind())) {
            csv.row("paper", "overall", "", "Table 1: " + l.dataset() + ", " + l.method() + " ("
                    + PaperResults.PROTOCOL + ")", l.method(), "");
            for (Metric m : Metric.values()) {
                double v = l.get(m);
                csv.add(Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.2f", v), "");
            }
        }
        return csv.toString();
    }

    private static void csvLine(CsvTable csv, String source, String scope, String row, String label, String phase,
                                MetricSummary m) {
        csv.row(source, scope, row, label, phase, Integer.toString(m.cells()));
        for (Metric k : Metric.values()) {
            Optional<MetricValue> v = m.get(k);
            csv.add(v.map(x -> pct(x.mean())).orElse(""), v.map(x -> pct(x.std())).orElse(""));
        }
    }

    // ---------------------------------------------------------------- sequential

    /**
     * Writes {@code sequential.md}, {@code sequential.csv} and {@code sequential.png} (the curve).
     *
     * @param r   the sequential-editing result to report
     * @param dir the output folder (created if needed); existing report files in it are replaced
     * @return the files written ({@code sequential.png} only if the chart could be drawn)
     * @throws IOException if the folder cannot be created or a file cannot be written
     */
    public static List<Path> writeSequential(SequentialResult r, Path dir) throws IOException {
        return writeSequential(r, dir, "edited one after another on one model");
    }

    /**
     * As {@link #writeSequential(SequentialResult, Path)}, saying how the rows were edited (e.g. "edited together in
     * one joint update" or "edited one after another, earlier edits' outputs protected").
     *
     * @param r    the result
     * @param dir  the output folder
     * @param how  how the rows were edited, completing "N of M rows …"
     * @return the files written
     * @throws IOException if a file cannot be written
     */
    public static List<Path> writeSequential(SequentialResult r, Path dir, String how) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        EvaluationSetup s = r.setup();
        double[] x = r.points().stream().mapToDouble(SequentialPoint::edits).toArray();
        List<Charts.Series> series = new ArrayList<>();
        int color = 0;
        for (Metric m : MAIN) {
            double[] v = r.points().stream().mapToDouble(p -> p.metrics().overall().get(m)
                    .map(mv -> 100 * mv.mean()).orElse(Double.NaN)).toArray();
            series.add(new Charts.Series(label(m), new Color[] {Charts.PALETTE[0], Charts.PALETTE[3],
                Charts.PALETTE[2], Charts.PALETTE[5]}[color++], v, null));
        }
        String chartNote = null;
        try {
            Charts.lines("Sequential edits: " + s.datasetName() + " (" + s.dataset().file().getFileName() + "), "
                    + (s.space().equals("text") ? "text space" : "images"),
                    "all rows edited so far, scored every " + r.every() + " edits on one model", "edits applied", x,
                    series, dir.resolve("sequential.png"));
            out.add(dir.resolve("sequential.png"));
        } catch (IOException | RuntimeException | java.awt.AWTError | LinkageError | InternalError e) {
            chartNote = e.toString();
        }
        StringBuilder md = new StringBuilder();
        md.append("# Sequential edits: ").append(s.dataset().file().getFileName()).append(" (").append(s.datasetName())
                .append("), ").append(s.space().equals("text") ? "text space" : "images").append("\n\n");
        md.append(r.edits().size()).append(" of ").append(s.rows().size()).append(" rows ").append(how).append(" (")
                .append(esc(describe(s.hyperparameters()))).append("; statistics ")
                .append(esc(s.statisticsId())).append("). Every ").append(r.every())
                .append(" edits all rows edited so far are scored; the edits are undone at the end. The paper "
                        + "reports 90 mixed RoAD/TIME edits scored every 10 with only a slight drop.\n\n");
        md.append("| edits | rows scored | Efficacy | Generalisation | Specificity | F1 |\n|---|---|---|---|---|---|\n");
        for (SequentialPoint p : r.points()) {
            md.append("| ").append(p.edits()).append(" | ").append(p.rowsEdited());
            MAIN.forEach(m -> md.append(" | ").append(fmt(p.metrics().overall(), m, false)));
            md.append(" |\n");
        }
        md.append('\n');
        md.append(chartNote == null ? "![curve](sequential.png)\n\n" : "(Chart not drawn: " + esc(chartNote) + ")\n\n");
        if (!r.edits().isEmpty()) {
            md.append("## Edits\n\n").append(editSummary(r.edits())).append("\n\n");
        }
        if (!r.failed().isEmpty()) {
            md.append("## Failed edits\n\n");
            r.failed().forEach(f -> md.append("- ").append(esc(f.label())).append(": ").append(esc(f.reason()))
                    .append('\n'));
            md.append('\n');
        }
        out.add(writeText(dir.resolve("sequential.md"), md.toString()));
        CsvTable csv = new CsvTable().row("edits", "rows_scored", "elapsed_s");
        for (Metric m : Metric.values()) {
            csv.add(m.key());
        }
        for (SequentialPoint p : r.points()) {
            csv.row(Integer.toString(p.edits()), Integer.toString(p.rowsEdited()),
                    String.format(Locale.ROOT, "%.3f", p.elapsed().toMillis() / 1000.0));
            for (Metric m : Metric.values()) {
                csv.add(p.metrics().overall().get(m).map(v -> pct(v.mean())).orElse(""));
            }
        }
        out.add(writeText(dir.resolve("sequential.csv"), csv.toString()));
        return out;
    }

    // ---------------------------------------------------------------- sweep

    /**
     * Writes {@code sweep.md} and {@code sweep.csv}: one line per setting with its overall metrics, edit steps
     * and times, and the paper's N ablation beside settings whose N it ran.
     *
     * @param r   the sweep result to report
     * @param dir the output folder (created if needed); existing report files in it are replaced
     * @return the files written: {@code sweep.md}, {@code sweep.csv}
     * @throws IOException if the folder cannot be created or a file cannot be written
     */
    public static List<Path> writeSweep(SweepResult r, Path dir) throws IOException {
        Files.createDirectories(dir);
        boolean text = r.points().isEmpty() || r.points().get(0).result().setup().space().equals("text");
        StringBuilder md = new StringBuilder();
        md.append("# Sweep: ").append(r.dataset().file().getFileName()).append(" (")
                .append(r.dataset().kind().displayName()).append("), ").append(r.rows().size()).append(" rows, ")
                .append(text ? "text space" : "images").append("\n\n");
        Hyperparameters b = r.base();
        md.append("Layer, N and lr as in each line; the other settings: ").append(String.format(Locale.ROOT,
                "≤%d steps, stop at p(target) > %s, weight decay %s, clamp %s·‖t₀‖, %s, %s%s", b.maxSteps(),
                num(b.probabilityThreshold()), num(b.weightDecay()), num(b.clampFactor()),
                b.similarity().name().toLowerCase(Locale.ROOT), b.representation().name().toLowerCase(Locale.ROOT),
                b.covarianceDamping() > 0 ? ", damping " + num(b.covarianceDamping()) : ""));
        r.points().stream().map(p -> p.result().setup().statisticsId()).distinct()
                .forEach(id -> md.append("; statistics ").append(esc(id)));
        md.append(". Percent; \"F1 before\" is the clean model on the same probes.\n\n");
        md.append("| layer | N | lr | Efficacy | Generalisation | Specificity | F1 | F1 before | steps | converged "
                + "| s/edit | failed | paper (N ablation) E/G/S/F1 † |\n");
        md.append("|---".repeat(13)).append("|\n");
        CsvTable csv = new CsvTable().row("layer", "n_contrastive", "lr", "cells", "failed");
        for (Metric m : Metric.values()) {
            csv.add(m.key(), m.key() + "_std");
        }
        csv.add("f1_before", "mean_steps", "converged_share", "mean_edit_ms", "paper_efficacy",
                "paper_generalisation", "paper_specificity", "paper_f1");
        boolean anyPaper = false;
        for (SweepPoint p : r.points()) {
            EvaluationResult e = p.result();
            boolean scored = e.cells().stream().anyMatch(c -> !c.failed());
            MetricSummary after = scored ? e.metrics().overall() : null;
            MetricSummary before = e.metricsBefore().map(MetricsReport::overall).orElse(null);
            boolean seeds = e.setup().seeds().size() > 1;
            Optional<PaperResults.Line> paper = PaperResults.ablation(p.numContrastive());
            anyPaper |= paper.isPresent();
            md.append("| ").append(p.layer()).append(" | ").append(p.numContrastive()).append(" | ")
                    .append(num(p.learningRate()));
            MAIN.forEach(m -> md.append(" | ").append(after == null ? "–" : fmt(after, m, seeds)));
            md.append(" | ").append(before == null ? "–" : fmt(before, Metric.F1, false));
            md.append(String.format(Locale.ROOT, " | %.1f | %.0f%% | %.2f | %d", p.meanSteps(),
                    100 * p.convergedShare(), p.meanEditMillis() / 1000, e.failed().size()));
            md.append(" | ").append(paper.map(l -> String.format(Locale.ROOT, "%.1f / %.1f / %.1f / %.1f",
                    l.efficacy(), l.generalisation(), l.specificity(), l.f1())).orElse("–")).append(" |\n");
            csv.row(Integer.toString(p.layer()), Integer.toString(p.numContrastive()), num(p.learningRate()),
                    Integer.toString(e.cells().size()), Integer.toString(e.failed().size()));
            for (Metric m : Metric.values()) {
                Optional<MetricValue> v = after == null ? Optional.empty() : after.get(m);
                csv.add(v.map(x -> pct(x.mean())).orElse(""), v.map(x -> pct(x.std())).orElse(""));
            }
            csv.add(before == null ? "" : before.get(Metric.F1).map(x -> pct(x.mean())).orElse(""));
            csv.add(String.format(Locale.ROOT, "%.3f", p.meanSteps()),
                    String.format(Locale.ROOT, "%.4f", p.convergedShare()),
                    String.format(Locale.ROOT, "%.1f", p.meanEditMillis()));
            if (paper.isPresent()) {
                PaperResults.Line l = paper.get();
                csv.add(String.format(Locale.ROOT, "%.1f", l.efficacy()),
                        String.format(Locale.ROOT, "%.1f", l.generalisation()),
                        String.format(Locale.ROOT, "%.1f", l.specificity()), String.format(Locale.ROOT, "%.1f", l.f1()));
            } else {
                csv.add("", "", "", "");
            }
        }
        md.append("\n† ");
        md.append(anyPaper ? "The paper's ablation over N contrastive captions (" + PaperResults.PROTOCOL + ")"
                : "The paper's ablation covers N = 0, 15, 20, 30, 50 (" + PaperResults.PROTOCOL + ")");
        md.append(text ? "; **not comparable** with these text-space numbers (different model and protocol), shown "
                + "for the trend only.\n" : ".\n");
        List<Path> out = new ArrayList<>();
        out.add(writeText(dir.resolve("sweep.md"), md.toString()));
        out.add(writeText(dir.resolve("sweep.csv"), csv.toString()));
        return out;
    }

    // ---------------------------------------------------------------- helpers

    static String describe(Hyperparameters h) {
        return String.format(Locale.ROOT, "layer %d, N %d contrastive, lr %s, ≤%d steps, stop at p(target) > %s, "
                + "weight decay %s, clamp %s·‖t₀‖, %s, %s", h.layer(), h.numContrastive(), num(h.learningRate()),
                h.maxSteps(), num(h.probabilityThreshold()), num(h.weightDecay()), num(h.clampFactor()),
                h.similarity().name().toLowerCase(Locale.ROOT), h.representation().name().toLowerCase(Locale.ROOT))
                + (h.covarianceDamping() > 0 ? ", damping " + num(h.covarianceDamping()) : "");
    }

    private static String label(Metric m) {
        return switch (m) {
            case EFFICACY -> "Efficacy";
            case GENERALISATION -> "Generalisation";
            case SPECIFICITY -> "Specificity";
            case F1 -> "F1";
            default -> m.key();
        };
    }

    private static String fmt(MetricSummary s, Metric m, boolean std) {
        return s.get(m).map(v -> std ? String.format(Locale.ROOT, "%.2f ± %.2f", 100 * v.mean(), 100 * v.std())
                : String.format(Locale.ROOT, "%.2f", 100 * v.mean())).orElse("–");
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", 100 * v);
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Double.toString(v);
    }

    private static String rowRange(List<EvalCase> rows) {
        int min = rows.stream().mapToInt(EvalCase::row).min().orElse(0);
        int max = rows.stream().mapToInt(EvalCase::row).max().orElse(0);
        return max - min + 1 == rows.size() ? (min == max ? "row " + min : "rows " + min + "–" + max)
                : "rows " + String.join(", ", rows.stream().map(c -> Integer.toString(c.row())).toList());
    }

    private static String seedRange(List<Integer> seeds) {
        int min = seeds.stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = seeds.stream().mapToInt(Integer::intValue).max().orElse(0);
        return seeds.size() + " (" + (max - min + 1 == seeds.size() ? min + "–" + max
                : String.join(", ", seeds.stream().map(String::valueOf).toList())) + ")";
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }

    private static Path writeText(Path file, String text) throws IOException {
        dev.refact.clip.io.AtomicFiles.writeString(file, text);
        return file;
    }
}
