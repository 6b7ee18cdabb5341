package dev.refact.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextConfig;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.ContextTemplates;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.SavedEdit;
import dev.refact.core.eval.TextSpaceEvaluator;
import dev.refact.core.eval.TwoWayProbe;
import dev.refact.core.stats.Corpora;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import dev.refact.examples.GeneratedTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code refact demo}: the main job end to end. With {@code --model}: one edit of a real checkpoint. Without: the
 * same on a GENERATED tiny random text encoder with a generated tokenizer (mechanics only; clearly labelled).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the main job end to end: load a text encoder, get covariance statistics, edit "
                + "\"The President of the United States\" (Donald Trump → Joe Biden), report text-space metrics "
                + "before/after, save the edit file, re-apply it to a fresh instance (bit-exact check), undo it "
                + "(bit-exact check) and write the edited text encoder.",
            "Without --model it runs on a GENERATED tiny random CLIP text encoder and tokenizer: the numbers then "
                    + "show the mechanics only, not what Stable Diffusion believes."})
final class DemoCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "A Stable Diffusion 1.x diffusers folder or text_encoder/ folder.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Tokenizer folder (default: found beside the model).")
    Path tokenizer;

    @Option(names = "--stats", paramLabel = "FILE", description = "Covariance statistics (default: computed and cached).")
    Path stats;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "refact-demo", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--steps", defaultValue = "100", description = "Maximum v* steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        dev.refact.clip.io.AtomicFiles.checkWritableDirectory(out);
        Files.createDirectories(out);
        boolean generated = model == null;
        ModelOptions options = new ModelOptions();
        options.device = "cpu";
        if (generated) {
            spec.commandLine().getErr().println("refact demo: NOTE no --model given: running on a GENERATED tiny random CLIP text "
                    + "encoder with a generated tokenizer. Results show the mechanics only; pass --model with a "
                    + "Stable Diffusion 1.x folder for a real edit.");
            Path root = out.resolve("generated-model");
            int vocab = GeneratedTokenizer.write(root.resolve("tokenizer"), trainingText(), 400);
            ClipTextConfig cfg = new ClipTextConfig(64, 256, 4, 4, 77, vocab, "quick_gelu", 1e-5, 32, 1, 2);
            try (ClipTextModel m = ClipTextModel.random(cfg, 2024, true)) {
                m.save(root.resolve("text_encoder"));
            }
            options.model = root;
        } else {
            options.model = model;
            options.tokenizer = tokenizer;
        }
        ClipTokenizer tok = options.loadTokenizer();
        JsonObject report = new JsonObject();
        report.addProperty("model", generated ? "GENERATED tiny random CLIP text encoder (not Stable Diffusion; "
                + "mechanics only)" : options.model.toString());
        try (ClipTextModel m = options.loadModel()) {
            int layer = Math.min(7, m.config().numHiddenLayers() - 2);
            report.addProperty("architecture", m.toString());
            Hyperparameters hp = Hyperparameters.roleEdits().toBuilder().layer(layer).maxSteps(steps).build();
            try (CovarianceStats c = generated && stats == null ? tinyStats(m, tok, layer)
                    : StatsSupport.loadOrCompute(stats, m, tok, layer, spec.commandLine().getErr())) {
                EditRequest request = EditRequest.of("The President of the United States", "Donald Trump", "Joe Biden");
                List<TwoWayProbe> probes = EditCommand.probes(request, hp);
                TextSpaceEvaluator evaluator = new TextSpaceEvaluator(tok, true);
                TextSpaceEvaluator.Reference ref = evaluator.reference(m, probes);
                double[] before = evaluator.score(m, ref);
                float[] original = m.parameterValues(ClipTextModel.fc2WeightName(layer));
                EditResult result = Editor.builder().tokenizer(tok).statistics(c).hyperparameters(hp).build()
                        .edit(m, request);
                double[] after = evaluator.score(m, ref);
                report.add("edit", EditCommand.summary(result, probes, before, after));
                float[] edited = m.parameterValues(ClipTextModel.fc2WeightName(layer));

                Path editFile = out.resolve("president.edit.safetensors");
                result.save(editFile);
                m.save(out.resolve("edited").resolve("text_encoder"));
                report.addProperty("edit_file", editFile.toString());
                report.addProperty("edit_file_bytes", Files.size(editFile));
                report.addProperty("edited_text_encoder", out.resolve("edited").resolve("text_encoder").toString());

                try (ClipTextModel fresh = options.loadModel()) {
                    SavedEdit.load(editFile).apply(fresh, false);
                    report.addProperty("reapplied_bit_exact", Arrays.equals(edited,
                            fresh.parameterValues(ClipTextModel.fc2WeightName(layer))));
                }
                result.undo();
                report.addProperty("undo_bit_exact", Arrays.equals(original,
                        m.parameterValues(ClipTextModel.fc2WeightName(layer))));
            }
        }
        spec.commandLine().getOut().println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(report));
        return 0;
    }

    /** Statistics of the generated model from 2,000 WordNet glosses (seconds on a CPU). */
    private static CovarianceStats tinyStats(ClipTextModel m, ClipTokenizer tok, int layer) throws java.io.IOException {
        Iterable<String> corpus = Corpora.wordNetAvailable() ? Corpora.wordNetGlosses() : ContextTemplates.DEFAULT_CONTRASTIVE;
        return CovarianceStats.compute(m, tok, layer, corpus, StatsOptions.builder().sampleLimit(2_000)
                .corpusName(Corpora.wordNetAvailable() ? Corpora.WORDNET : "contrastive-captions").build(), null);
    }

    /** Text the generated tokenizer learns its merges from. */
    private static String trainingText() {
        StringBuilder b = new StringBuilder();
        ContextTemplates.REFACT.forEach(t -> b.append(t).append('\n'));
        ContextTemplates.DEFAULT_CONTRASTIVE.forEach(t -> b.append(t).append('\n'));
        EditCommand.HELD_OUT.forEach(t -> b.append(t).append('\n'));
        b.append("the president of the united states donald trump joe biden\n".repeat(3));
        return b.toString();
    }
}
