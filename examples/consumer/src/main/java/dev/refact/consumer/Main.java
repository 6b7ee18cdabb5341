package dev.refact.consumer;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.ContextTemplates;
import dev.refact.core.EditRequest;
import dev.refact.core.EditResult;
import dev.refact.core.Editor;
import dev.refact.core.Hyperparameters;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.core.stats.StatsOptions;
import java.nio.file.Path;

/**
 * One ReFACT edit on the tiny random CLIP text encoder of the shared fixtures, from a modular application:
 * statistics, edit, undo. Prints one line per fact and exits non-zero if anything is off.
 *
 * <p>Argument: the fixtures folder (default {@code ../../../shared/data}, i.e. beside the refact-java checkout).
 */
public final class Main {
    private Main() {
    }

    /**
     * Runs the edit.
     *
     * @param args optional: the shared fixtures folder
     * @throws Exception on any failure
     */
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args.length > 0 ? args[0] : "../../../shared/data");
        Module core = Editor.class.getModule();
        check(core.isNamed() && core.getName().equals("dev.refact.core"), "refact-core is the named module "
                + "dev.refact.core, got " + core);
        Module clip = ClipTextModel.class.getModule();
        check(clip.isExported("dev.refact.clip") && !clip.isExported("dev.refact.clip.torch"),
                "dev.refact.clip exports its API, not dev.refact.clip.torch");
        System.out.println("modules: " + core.getName() + ", " + clip.getName() + " (dev.refact.clip.torch not "
                + "exported)");

        ClipTokenizer tokenizer = ClipTokenizer.load(data.resolve("clip-tokenizer"));
        try (ClipTextModel model = ClipTextModel.load(data.resolve("models/tiny-random-clip-text"))) {
            int layer = 1;
            try (CovarianceStats stats = CovarianceStats.compute(model, tokenizer, layer,
                    ContextTemplates.DEFAULT_CONTRASTIVE,
                    StatsOptions.builder().corpusName("contrastive-captions").build(), null)) {
                Hyperparameters hp = Hyperparameters.builder().layer(layer).numContrastive(2).maxSteps(20)
                        .covarianceDamping(0.01).build();
                Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
                EditResult result = editor.edit(model, EditRequest.of("The President of the United States",
                        "Donald Trump", "Joe Biden"));
                System.out.printf("edit: %d v* steps, stop %s, p(target) %.4f, model changes %d%n", result.steps(),
                        result.stopReason(), result.targetProbability(), model.changes().size());
                check(model.changes().size() == 1, "the edit is on the model");
                result.undo();
                check(model.changes().isEmpty(), "undo removed it");
                System.out.println("undo: model restored");
            }
        }
        System.out.println("consumer: OK");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("consumer check failed: " + what);
        }
    }
}
