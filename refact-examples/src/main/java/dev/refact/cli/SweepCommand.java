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
import dev.refact.report.EvaluationReport;
import dev.refact.core.eval.ProbeScorer;
import dev.refact.core.eval.SweepPoint;
import dev.refact.core.eval.SweepResult;
import dev.refact.core.eval.SweepRunner;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code refact sweep}: text-space evaluation over a grid of layer × N contrastive × lr, one table. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Sweep ReFACT's hyperparameters over a RoAD or TIME CSV in text space: every combination of "
                + "--layers, --n and --lr-values is evaluated like refact eval-text (edit the clean model, score, undo).",
            "Writes OUT/sweep.md and OUT/sweep.csv (one line per setting, the paper's N ablation beside ours) and "
                    + "one resumable results file per setting under OUT/points/.",
            "Example (the paper's ablation): --n 0,15,20,30,50"})
final class SweepCommand implements Callable<Integer> {
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

    @Option(names = "--layers", paramLabel = "LIST",
            description = "Layers to sweep, e.g. 5,7,9 or 5..9 (default: --layer, or 7 for RoAD, 9 for TIME). With "
                    + "several layers, --stats must contain {layer}.")
    String layers;

    @Option(names = "--n", paramLabel = "LIST",
            description = "N contrastive captions to sweep, e.g. 0,15,20,30,50 (default: --num-contrastive or 20).")
    String n;

    @Option(names = "--lr-values", paramLabel = "LIST",
            description = "Learning rates to sweep, e.g. 0.01,0.05,0.1 (default: --lr or 0.05).")
    String lrValues;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: sweep-<csv name>).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Dataset dataset = data.read();
        List<EvalCase> rows = data.select(dataset);
        EvalSupport.printIssues(spec.commandLine().getErr(), dataset);
        Hyperparameters base = edit.hyperparameters(dataset.kind());
        List<Integer> layerList = layers == null ? List.of(base.layer()) : Ranges.ints(layers, "--layers");
        if (layerList.size() > 1 && edit.stats != null && !edit.stats.toString().contains("{layer}")) {
            throw new IllegalArgumentException("--stats " + edit.stats + " holds one layer's statistics; with several "
                    + "--layers give a path containing {layer} (e.g. stats/L{layer}.safetensors)");
        }
        Path dir = out != null ? out : Path.of("sweep-" + EvalTextCommand.stem(dataset));
        dev.refact.clip.io.AtomicFiles.checkWritableDirectory(dir); // before any computation
        ClipTokenizer tokenizer = model.loadTokenizer();
        CellExecutor remote = EvalSupport.executor(parent, () -> EvalCells.text(model, edit.stats, edit.allowForeignStats,
                data.dataset, base.representation() == Representation.PROJECTED));
        EvalSupport.driverOnCpu(remote, model);
        try (ClipTextModel clip = model.loadModel()) {
            SweepRunner.Builder b = SweepRunner.builder()
                    .scorer(ProbeScorer.textSpace(tokenizer, base.representation() == Representation.PROJECTED))
                    .tokenizer(tokenizer).base(base).layers(layerList).directory(dir)
                    .allowStatisticsOfOtherModels(edit.allowForeignStats)
                    .listener(EvalSupport.progress(spec.commandLine().getErr(), "sweep"))
                    .statistics(layer -> {
                        Path file = edit.stats == null ? null
                                : Path.of(edit.stats.toString().replace("{layer}", Integer.toString(layer)));
                        try {
                            return StatsSupport.loadOrCompute(file, clip, tokenizer, layer, spec.commandLine().getErr(),
                                    edit.allowForeignStats);
                        } catch (RuntimeException e) {
                            throw e;
                        } catch (Exception e) {
                            throw new UncheckedIOException(e instanceof java.io.IOException io ? io
                                    : new java.io.IOException(e.getMessage(), e));
                        }
                    });
            if (remote != null) {
                b.executor(remote);
            }
            if (n != null) {
                b.numContrastive(Ranges.ints(n, "--n"));
            }
            if (lrValues != null) {
                b.learningRates(Ranges.doubles(lrValues, "--lr-values"));
            }
            SweepResult r;
            try {
                r = b.build().run(clip, dataset, rows);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            List<Path> files = EvaluationReport.writeSweep(r, dir);
            JsonObject o = new JsonObject();
            o.addProperty("dataset", dataset.file().toString());
            o.addProperty("rows", rows.size());
            JsonArray pts = new JsonArray();
            for (SweepPoint p : r.points()) {
                JsonObject x = new JsonObject();
                x.addProperty("layer", p.layer());
                x.addProperty("n_contrastive", p.numContrastive());
                x.addProperty("lr", p.learningRate());
                if (p.result().cells().stream().anyMatch(c -> !c.failed())) {
                    x.add("after", EvalSupport.json(p.result().metrics().overall()));
                }
                x.addProperty("failed", p.result().failed().size());
                x.addProperty("mean_steps", p.meanSteps());
                pts.add(x);
            }
            o.add("points", pts);
            JsonArray f = new JsonArray();
            files.forEach(p -> f.add(p.toString()));
            o.add("files", f);
            spec.commandLine().getOut().println(new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create()
                    .toJson(o));
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
