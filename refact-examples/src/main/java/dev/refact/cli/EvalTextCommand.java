package dev.refact.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.Hyperparameters;
import dev.refact.core.Representation;
import dev.refact.core.eval.CellExecutor;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvalMode;
import dev.refact.report.EvaluationReport;
import dev.refact.core.eval.EvaluationResult;
import dev.refact.core.eval.EvaluationRunner;
import dev.refact.core.eval.ProbeScorer;
import dev.refact.core.eval.SequentialResult;
import dev.refact.core.stats.CovarianceStats;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code refact eval-text}: edit + text-space evaluation over a RoAD/TIME file (no images), with a resumable
 * results file and a report (markdown, CSV, PNG); or the sequential-edit curve with {@code --sequential}.
 */
@Command(name = "eval-text", mixinStandardHelpOptions = true,
        description = {"Evaluate ReFACT edits over a RoAD or TIME CSV in text space (no images): each row is edited "
                + "on the clean model, its edit prompt, 5 positives and 5 negatives are scored by the two-way test "
                + "softmax(100·cos) against the clean model's embeddings of the old/new texts, then the edit is undone.",
            "Writes OUT/results.jsonl (one line per row, appended as it goes: rerunning resumes), OUT/report.md, "
                    + "OUT/metrics.csv and OUT/metrics.png; prints a JSON summary.",
            "With --sequential the rows are edited one after another on one model and all rows edited so far are "
                    + "scored every --every edits: OUT/sequential.md, .csv, .png."})
final class EvalTextCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    RefactCommand parent;

    @Mixin
    ModelOptions model;

    @Mixin
    EvalSupport.DatasetOptions data;

    @Mixin
    EvalSupport.EditOptions edit;

    @Option(names = "--mode", defaultValue = "refact", paramLabel = "refact|baseline|oracle",
            description = "refact (edit, default), baseline (unedited) or oracle (unedited, explicit oracle prompts).")
    String mode;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: eval-text-<csv name>-<mode>).")
    Path out;

    @Option(names = "--sequential", description = "Sequential edits on one model, scored every --every edits.")
    boolean sequential;

    @Option(names = "--protect", description = "With --sequential: each edit keeps the outputs of the earlier edits' "
            + "subjects fixed (the protected curve).")
    boolean protect;

    @Option(names = "--joint", description = "Edit all selected rows in one joint update, then score every row "
            + "(rows conflicting with an earlier row are left out and reported). Writes OUT/sequential.* with one point.")
    boolean joint;

    @Option(names = "--every", defaultValue = "10", paramLabel = "K",
            description = "Sequential mode: rows edited between two curve points (default 10, as the paper).")
    int every;

    @Override
    public Integer call() throws Exception {
        EvalMode m = EvalMode.parse(mode);
        if (sequential && parent != null && parent.backend != null) {
            throw new IllegalArgumentException("--sequential edits one model row after row; run it with bin/refact, "
                    + "not on a cluster");
        }
        if (sequential && m != EvalMode.REFACT) {
            throw new IllegalArgumentException("--sequential edits; it cannot be combined with --mode " + m.key());
        }
        if (joint && (sequential || m != EvalMode.REFACT)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--joint edits all rows at once; it cannot be combined with --sequential or --mode " + m.key());
        }
        if (protect && !sequential) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--protect needs --sequential");
        }
        Dataset dataset = data.read();
        List<EvalCase> rows = data.select(dataset);
        EvalSupport.checkOracle(m, dataset, rows);
        EvalSupport.printIssues(spec.commandLine().getErr(), dataset);
        Hyperparameters hp = edit.hyperparameters(dataset.kind());
        Path dir = out != null ? out : Path.of("eval-text-" + stem(dataset) + "-"
                + (joint ? "joint" : sequential ? (protect ? "sequential-protected" : "sequential") : m.key()));
        dev.refact.clip.io.AtomicFiles.checkWritableDirectory(dir); // before any computation
        ClipTokenizer tokenizer = model.loadTokenizer();
        CellExecutor remote = sequential ? null : EvalSupport.executor(parent, () -> EvalCells.text(model, edit.stats,
                edit.allowForeignStats, data.dataset, hp.representation() == Representation.PROJECTED));
        EvalSupport.driverOnCpu(remote, model);
        try (ClipTextModel clip = model.loadModel()) {
            if (m == EvalMode.REFACT && hp.layer() >= clip.config().numHiddenLayers()) {
                throw new IllegalArgumentException("layer " + hp.layer() + " is outside the model's "
                        + clip.config().numHiddenLayers() + " layers (0.." + (clip.config().numHiddenLayers() - 1)
                        + "); pass --layer");
            }
            ProbeScorer scorer = ProbeScorer.textSpace(tokenizer, hp.representation() == Representation.PROJECTED);
            EvaluationRunner.Builder b = EvaluationRunner.builder().mode(m).scorer(scorer)
                    .listener(EvalSupport.progress(spec.commandLine().getErr(), sequential ? "sequential" : "eval-text"));
            CovarianceStats stats = m == EvalMode.REFACT
                    ? StatsSupport.loadOrCompute(edit.stats, clip, tokenizer, hp.layer(), spec.commandLine().getErr(),
                            edit.allowForeignStats) : null;
            try (stats) {
                if (stats != null) {
                    b.editor(tokenizer, stats, hp).allowStatisticsOfOtherModels(edit.allowForeignStats);
                }
                if (sequential || joint) {
                    SequentialResult r = joint ? b.build().runJoint(clip, dataset, rows)
                            : b.build().runSequential(clip, dataset, rows, every, protect);
                    List<Path> files = EvaluationReport.writeSequential(r, dir, joint
                            ? "edited together in one joint update of one model"
                            : protect ? "edited one after another on one model, earlier edits' outputs protected"
                            : "edited one after another on one model");
                    spec.commandLine().getOut().println(sequentialSummary(r, files));
                } else {
                    if (remote != null) {
                        b.executor(remote);
                    }
                    EvaluationResult r = b.results(dir.resolve("results.jsonl")).build().run(clip, dataset, rows);
                    List<Path> files = EvaluationReport.write(r, dir);
                    spec.commandLine().getOut().println(summary(r, dir, files));
                }
            }
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    static String stem(Dataset d) {
        String n = d.file().getFileName().toString();
        return n.endsWith(".csv") ? n.substring(0, n.length() - 4) : n;
    }

    static String summary(EvaluationResult r, Path dir, List<Path> files) {
        JsonObject o = new JsonObject();
        o.addProperty("dataset", r.setup().dataset().file().toString());
        o.addProperty("kind", r.setup().datasetName());
        o.addProperty("mode", r.setup().mode().key());
        o.addProperty("space", r.setup().space());
        o.addProperty("rows", r.setup().rows().size());
        o.addProperty("skipped", r.skipped().size());
        o.addProperty("failed", r.failed().size());
        o.addProperty("computed", r.computed());
        o.addProperty("resumed", r.resumed());
        if (r.cells().stream().anyMatch(c -> !c.failed())) {
            o.add(r.setup().mode() == EvalMode.REFACT ? "after" : r.setup().mode().key(),
                    EvalSupport.json(r.metrics().overall()));
        }
        r.metricsBefore().ifPresent(b -> o.add("before", EvalSupport.json(b.overall())));
        o.addProperty("results", dir.resolve("results.jsonl").toString());
        JsonArray f = new JsonArray();
        files.forEach(p -> f.add(p.toString()));
        o.add("files", f);
        return new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create().toJson(o);
    }

    static String sequentialSummary(SequentialResult r, List<Path> files) {
        JsonObject o = new JsonObject();
        o.addProperty("dataset", r.setup().dataset().file().toString());
        o.addProperty("rows", r.setup().rows().size());
        o.addProperty("every", r.every());
        o.addProperty("edited", r.edits().size());
        o.addProperty("failed", r.failed().size());
        JsonArray pts = new JsonArray();
        r.points().forEach(p -> {
            JsonObject x = EvalSupport.json(p.metrics().overall());
            x.addProperty("edits", p.edits());
            x.addProperty("rows_scored", p.rowsEdited());
            pts.add(x);
        });
        o.add("points", pts);
        JsonArray f = new JsonArray();
        files.forEach(p -> f.add(p.toString()));
        o.add("files", f);
        return new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create().toJson(o);
    }
}
