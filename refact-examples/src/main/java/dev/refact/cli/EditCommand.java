package dev.refact.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.ProgressListener;
import dev.refact.core.Representation;
import dev.refact.core.eval.TextSpaceEvaluator;
import dev.refact.core.eval.ProbeKind;
import dev.refact.core.eval.TwoWayProbe;
import dev.refact.core.stats.CovarianceStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code refact edit}: one ReFACT edit, a JSON summary on stdout. */
@Command(name = "edit", mixinStandardHelpOptions = true,
        description = {"Apply one ReFACT edit to a text encoder and print a JSON summary (steps, stop reason, "
                + "p(target), ‖δ‖, times, text-space metrics before/after).",
            "With --requests FILE.jsonl (one JSON object per line: prompt, optional subject, source, target) and "
                    + "--joint, all requests are made to hold at once by one update (conflicting requests are refused "
                    + "unless --ridge); with --sequential [--protect] they are edited one after another.",
            "Without --stats the covariance statistics are computed on the fly from the built-in corpus "
                    + "(see docs/statistics.md); the paper used 100,000 WikiText-103 lines."})
final class EditCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", description = "The editing prompt, e.g. \"The President of the United States\".")
    String prompt;

    @Option(names = "--subject", description = "The subject inside the prompt (default: the whole prompt).")
    String subject;

    @Option(names = "--source", description = "The current association, e.g. \"Donald Trump\".")
    String source;

    @Option(names = "--target", description = "The new association, e.g. \"Joe Biden\".")
    String target;

    @Option(names = "--layer", description = "Layer to edit (default 7, the paper's role-edit layer).")
    Integer layer;

    @Option(names = "--hparams", paramLabel = "FILE", description = "Hyperparameters JSON (ours or ReFACT's); flags override it.")
    Path hparams;

    @Option(names = "--stats", paramLabel = "FILE", description = "Covariance statistics file (refact stats).")
    Path stats;

    @Option(names = "--contrastive", paramLabel = "FILE",
            description = "Contrastive prompts, one per line (all are used; default: 20 built-in captions).")
    Path contrastive;

    @Option(names = "--allow-foreign-stats",
            description = "Use --stats even when its provenance names another model's fingerprint.")
    boolean allowForeignStats;

    @Option(names = "--steps", description = "Maximum v* steps (default 100).")
    Integer steps;

    @Option(names = "--lr", description = "Adam learning rate for v* (default 0.05).")
    Double lr;

    @Option(names = "--out", paramLabel = "DIR|FILE.safetensors",
            description = "Write the edited text encoder: a folder (diffusers text_encoder/ layout), or FILE.safetensors: "
                    + "the input single-file checkpoint with only the edited weight changed (same layout, dtypes, "
                    + "tensor order and metadata, plus provenance).")
    Path out;

    @Option(names = "--save-edit", paramLabel = "FILE", description = "Write the edit file (u, r, provenance; ~15 KB). "
            + "--joint: one joint edit file; --sequential: one per edit, FILE with -1, -2, … before the extension "
            + "(a single request: FILE itself).")
    Path saveEdit;

    @Option(names = "--preset", paramLabel = "NAME", description = "Hyperparameter preset: role-edits (default), "
            + "appearance-edits, or released-code (the released ReFACT code: no contrastive captions, "
            + "v_max_grad_steps counts loop iterations, i.e. at most 99 Adam updates).")
    String preset;

    @Option(names = "--requests", paramLabel = "FILE.jsonl",
            description = "Many requests, one JSON object per line: prompt, optional subject, source, target.")
    Path requests;

    @Option(names = "--joint", description = "With --requests: one update that makes every request hold at once.")
    boolean joint;

    @Option(names = "--sequential", description = "With --requests: edit the requests one after another.")
    boolean sequential;

    @Option(names = "--protect", description = "With --sequential: each edit keeps the outputs of the earlier edits' "
            + "subjects fixed.")
    boolean protect;

    @Option(names = "--ridge", paramLabel = "λ", description = "Joint modes: solve the soft least-squares system with "
            + "ridge λ (relative to the system's mean squared singular value) instead of refusing conflicts.")
    Double ridge;

    @Option(names = "--max-condition", paramLabel = "X", description = "Joint modes: refuse systems whose condition "
            + "number exceeds X (default 1e4).")
    Double maxCondition;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        if (out != null) {
            OutputChecks.folderOrSafetensors(out);
        }
        if (saveEdit != null) {
            dev.refact.clip.io.AtomicFiles.checkCanCreate(saveEdit);
        }
        if (requests != null) {
            return new ManyRequests(this).call();
        }
        if (joint || sequential || protect || ridge != null || maxCondition != null) {
            throw usage("--joint, --sequential, --protect, --ridge and --max-condition need --requests FILE.jsonl");
        }
        if (prompt == null || source == null || target == null) {
            throw usage("give --prompt, --source and --target (or --requests FILE.jsonl with --joint or --sequential)");
        }
        Hyperparameters hp = hyperparameters();
        EditRequest request = new EditRequest(prompt, subject, source, target);
        model.checkOutput(out);
        ClipTokenizer tokenizer = model.loadTokenizer();
        try (ClipTextModel m = model.loadModel();
             CovarianceStats c = StatsSupport.loadOrCompute(stats, m, tokenizer, hp.layer(), spec.commandLine().getErr(),
                     allowForeignStats)) {
            boolean projected = hp.representation() == Representation.PROJECTED;
            TextSpaceEvaluator evaluator = new TextSpaceEvaluator(tokenizer, projected);
            List<TwoWayProbe> probes = probes(request, hp);
            TextSpaceEvaluator.Reference ref = evaluator.reference(m, probes);
            double[] before = evaluator.score(m, ref);
            Progress stepBar = Progress.start(spec.commandLine().getErr(), "v* optimisation", hp.maxSteps(), "steps");
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(c).hyperparameters(hp)
                    .allowStatisticsOfOtherModels(allowForeignStats)
                    .listener(new ProgressListener() {
                        @Override
                        public void step(EditRequest r, int step, double loss, double p) {
                            stepBar.stepTo(step + 1);
                            if (step % 10 == 0 && !Progress.quiet() && !Progress.interactive()) {
                                spec.commandLine().getErr().printf(java.util.Locale.ROOT, "refact: v* step %d loss %.4f p(target) %.4f%n",
                                        step, loss, p);
                            }
                        }
                    }).build();
            EditResult result;
            try {
                result = editor.edit(m, request);
            } finally {
                stepBar.close();
            }
            double[] after = evaluator.score(m, ref);
            if (saveEdit != null) {
                result.save(saveEdit);
            }
            if (out != null) {
                m.save(out);
            }
            spec.commandLine().getOut().println(summary(result, probes, before, after).toString());
        }
        return 0;
    }

    picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** --preset or --hparams, then the flags. */
    Hyperparameters hyperparameters() throws java.io.IOException {
        if (preset != null && hparams != null) {
            throw usage("give --preset or --hparams, not both");
        }
        Hyperparameters.Builder b = hparams != null ? HparamsFile.read(hparams).toBuilder()
                : preset(preset).toBuilder();
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
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), HparamsFile.flagNames(e.getMessage()));
        }
        if (contrastive != null) {
            List<String> lines = dev.refact.clip.io.TextFiles.readNonBlankLines(contrastive, "--contrastive file");
            b.contrastivePool(lines).numContrastive(lines.size());
        }
        return b.build();
    }

    /** The named preset (null: role-edits). */
    Hyperparameters preset(String name) {
        if (name == null) {
            return Hyperparameters.roleEdits();
        }
        try {
            return HparamsFile.preset(name);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** Phrasings not among the editing templates, for the generalisation probes of a single edit. */
    static final List<String> HELD_OUT = List.of("a photo of {}", "{} giving a speech", "an illustration of {}",
            "{} on television", "a close-up picture of {}");

    /**
     * Probes for a single edit without a dataset row: efficacy on the prompt; generalisation on held-out
     * phrasings of the subject (old/new texts: the same phrasing of source/target); specificity on the source
     * itself (its meaning must not become the target).
     */
    static List<TwoWayProbe> probes(EditRequest r, Hyperparameters hp) {
        List<TwoWayProbe> p = new ArrayList<>();
        p.add(new TwoWayProbe(ProbeKind.EFFICACY, r.prompt(), r.source(), r.target()));
        for (String t : HELD_OUT) {
            p.add(new TwoWayProbe(ProbeKind.GENERALISATION, fill(t, r.subject()), fill(t, r.source()),
                    fill(t, r.target())));
        }
        if (!r.source().equalsIgnoreCase(r.prompt())) {
            p.add(new TwoWayProbe(ProbeKind.SPECIFICITY, r.source(), r.source(), r.target()));
        }
        return p;
    }

    private static String fill(String template, String s) {
        return dev.refact.core.ContextTemplates.fill(template, s);
    }

    static JsonObject summary(EditResult r, List<TwoWayProbe> probes, double[] before, double[] after) {
        JsonObject o = new JsonObject();
        o.addProperty("prompt", r.request().prompt());
        o.addProperty("subject", r.request().subject());
        o.addProperty("source", r.request().source());
        o.addProperty("target", r.request().target());
        o.addProperty("layer", r.layer());
        o.addProperty("change_id", r.changeId());
        o.addProperty("steps", r.steps());
        o.addProperty("max_adam_updates", r.hyperparameters().adamUpdateCap());
        o.addProperty("stop_reason", r.stopReason().name().toLowerCase(java.util.Locale.ROOT));
        o.addProperty("p_target", r.targetProbability());
        o.addProperty("delta_norm", r.deltaNorm());
        o.addProperty("t0_norm", r.t0Norm());
        JsonObject times = new JsonObject();
        long total = 0;
        for (Map.Entry<String, Duration> e : r.timings().entrySet()) {
            times.addProperty(e.getKey(), e.getValue().toNanos() / 1e6);
            total += e.getValue().toNanos();
        }
        times.addProperty("total", total / 1e6);
        o.add("times_ms", times);
        o.addProperty("statistics", r.provenance().statisticsId());
        o.addProperty("model_fingerprint", r.provenance().modelFingerprint());
        JsonObject ts = new JsonObject();
        ts.add("before", metrics(probes, before));
        ts.add("after", metrics(probes, after));
        o.add("text_space", ts);
        return o;
    }

    static JsonObject metrics(List<TwoWayProbe> probes, double[] pNew) {
        var m = TextSpaceEvaluator.metrics(probes, pNew);
        JsonObject o = new JsonObject();
        put(o, "efficacy", m.efficacy());
        put(o, "generalisation", m.generalisation());
        put(o, "specificity", m.specificity());
        put(o, "f1", m.f1());
        JsonArray p = new JsonArray();
        for (double x : pNew) {
            p.add(x);
        }
        o.add("p_new", p);
        return o;
    }

    private static void put(JsonObject o, String k, double v) {
        if (Double.isNaN(v)) {
            o.add(k, com.google.gson.JsonNull.INSTANCE);
        } else {
            o.addProperty(k, v);
        }
    }
}
