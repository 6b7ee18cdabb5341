package dev.refact.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code refact eval}: the paper's image evaluation (generate with Stable Diffusion, classify with CLIP) through
 * the same runner and report as {@code refact eval-text}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate ReFACT edits over a RoAD or TIME CSV as the paper does: for each row and seed, edit "
                + "the clean text encoder, generate the edit prompt, 5 positives and 5 negatives with Stable Diffusion, "
                + "classify each image with CLIP over its two texts (softmax(100·cos)), score, undo.",
            "Writes OUT/results.jsonl (one line per row and seed, appended as it goes: rerunning resumes), "
                    + "OUT/report.md, OUT/metrics.csv, OUT/metrics.png."})
final class EvalCommand implements Callable<Integer> {
    static final String PIPELINE_CLASS = "dev.refact.diffusion.StableDiffusionPipeline";

    @Mixin
    ModelOptions model;

    @Mixin
    EvalSupport.DatasetOptions data;

    @Mixin
    EvalSupport.EditOptions edit;

    @Option(names = "--classifier", required = true, paramLabel = "CLIP_DIR",
            description = "HF CLIP folder used as the classifier (the paper: OpenCLIP ViT-bigG-14; ViT-L/14 works).")
    Path classifier;

    @Option(names = "--mode", defaultValue = "refact", paramLabel = "refact|baseline|oracle",
            description = "refact (edit, default), baseline (unedited) or oracle (unedited, explicit oracle prompts).")
    String mode;

    @Option(names = "--seeds", defaultValue = "0..24", paramLabel = "LIST",
            description = "Generation seeds per row (default 0..24, as the paper).")
    String seeds;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: eval-<csv name>-<mode>).")
    Path out;

    @Override
    public Integer call() throws Exception {
        try {
            Class.forName(PIPELINE_CLASS);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("refact eval needs the Stable Diffusion pipeline (refact-diffusion), which "
                    + "this build does not include yet; use refact eval-text for the text-space evaluation");
        }
        throw new IllegalStateException("refact eval: the image path is not wired in this build yet; use refact "
                + "eval-text");
    }
}
