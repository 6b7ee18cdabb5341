package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.ZeroShotClassifier;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.Hyperparameters;
import dev.refact.core.eval.CellExecutor;
import dev.refact.core.eval.Dataset;
import dev.refact.core.eval.EvalCase;
import dev.refact.core.eval.EvalMode;
import dev.refact.report.EvaluationReport;
import dev.refact.core.eval.EvaluationResult;
import dev.refact.core.eval.EvaluationRunner;
import dev.refact.core.eval.ProbeKind;
import dev.refact.core.eval.TwoWayProbe;
import dev.refact.core.stats.CovarianceStats;
import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.ImageGrid;
import dev.refact.diffusion.Images;
import dev.refact.diffusion.StableDiffusionPipeline;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code refact eval}: the paper's image evaluation (generate with Stable Diffusion, classify with CLIP) through
 * the same runner and report as {@code refact eval-text}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate ReFACT edits over a RoAD or TIME CSV as the paper does: for each row, edit the clean "
                + "text encoder; for each seed generate the edit prompt, 5 positives and 5 negatives with Stable "
                + "Diffusion and classify each image with CLIP over its two texts (softmax(100·cos)); undo.",
            "Writes OUT/results.jsonl (one line per row and seed, appended as it goes: rerunning resumes), "
                    + "OUT/report.md, OUT/metrics.csv, OUT/metrics.png; with --save-images every image and a "
                    + "grid per row (probes × seeds) under OUT/images/.",
            "The paper: SD 1.4 fp32, PNDM, 50 steps, guidance 7.5, 512×512, 25 seeds, OpenCLIP ViT-bigG-14."})
final class EvalCommand implements Callable<Integer> {
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

    @Option(names = "--classifier", required = true, paramLabel = "CLIP_DIR",
            description = "HF CLIP folder used as the classifier (the paper: OpenCLIP ViT-bigG-14; ViT-L/14 works).")
    Path classifier;

    @Option(names = "--classifier-tokenizer", paramLabel = "DIR",
            description = "The classifier's tokenizer (default: CLIP_DIR).")
    Path classifierTokenizer;

    @Option(names = "--mode", defaultValue = "refact", paramLabel = "refact|baseline|oracle",
            description = "refact (edit, default), baseline (unedited) or oracle (unedited, explicit oracle prompts).")
    String mode;

    @Option(names = "--seeds", defaultValue = "0..24", paramLabel = "LIST",
            description = "Generation seeds per row (default 0..24, as the paper).")
    String seeds;

    @Option(names = "--diffusion-steps", defaultValue = "50", paramLabel = "N",
            description = "Denoising steps (default 50).")
    int diffusionSteps;

    @Option(names = "--guidance", defaultValue = "7.5", paramLabel = "G", description = "Guidance scale (default 7.5).")
    double guidance;

    @Option(names = "--scheduler", defaultValue = "pndm", paramLabel = "NAME",
            description = "pndm (default, SD 1.4's), ddim or euler.")
    String scheduler;

    @Option(names = "--height", defaultValue = "512", paramLabel = "PX", description = "Image height (default 512).")
    int height;

    @Option(names = "--width", defaultValue = "512", paramLabel = "PX", description = "Image width (default 512).")
    int width;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T",
            description = "UNet/VAE compute dtype: f32 (default, as the paper), f16 or bf16.")
    String dtype;

    @Option(names = "--attention-chunk", defaultValue = "1024", paramLabel = "N",
            description = "Queries per attention chunk (0 = unchunked; default 1024).")
    int attentionChunk;

    @Option(names = "--save-images", description = "Keep every generated image and write a grid per row.")
    boolean saveImages;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: eval-<csv name>-<mode>).")
    Path out;

    @Override
    public Integer call() throws Exception {
        EvalMode m = EvalMode.parse(mode);
        List<Integer> seedList = Ranges.ints(seeds, "--seeds");
        GenerationOptions options = GenerationFlags.options("--diffusion-steps", diffusionSteps, guidance, scheduler, 0,
                height, width);
        Dataset dataset = data.read();
        List<EvalCase> rows = data.select(dataset);
        EvalSupport.checkOracle(m, dataset, rows);
        EvalSupport.printIssues(spec.commandLine().getErr(), dataset);
        Hyperparameters hp = edit.hyperparameters(dataset.kind());
        Path dir = out != null ? out : Path.of("eval-" + EvalTextCommand.stem(dataset) + "-" + m.key());
        dev.refact.clip.io.AtomicFiles.checkWritableDirectory(dir); // before any computation
        Path imageDir = saveImages ? dir.resolve("images") : null;
        ClipTokenizer tokenizer = model.loadTokenizer();
        Map<String, String> identity = new LinkedHashMap<>();
        identity.put("diffusion_model", FileFingerprint.of(model.model.resolve("unet")) + "/"
                + FileFingerprint.of(model.model.resolve("vae")));
        identity.put("classifier", FileFingerprint.of(classifier));
        identity.put("dtype", dtype);
        CellExecutor remote = EvalSupport.executor(parent, () -> new EvalCells(EvalCells.abs(model.model), model.encoder,
                EvalCells.abs(model.tokenizerPath()), model.device, EvalCells.abs(edit.stats),
                edit.allowForeignStats, EvalCells.abs(data.dataset), false, new EvalCells.Image(EvalCells.abs(classifier),
                EvalCells.abs(classifierTokenizer), diffusionSteps, guidance, scheduler, height, width, dtype,
                attentionChunk, EvalCells.abs(imageDir), new LinkedHashMap<>(identity))));
        EvalSupport.driverOnCpu(remote, model);
        ZeroShotClassifier zs;
        StableDiffusionPipeline sd;
        if (remote != null) {
            // the workers load the pipeline and classifier; the driver only needs the text encoder's fingerprint
            zs = null;
            sd = null;
        } else {
            try (Device d = Tensors.device(model.device)) {
                zs = ZeroShotClassifier.load(classifier, classifierTokenizer, d);
                try {
                    sd = StableDiffusionPipeline.load(model.model, GenerateCommand.parseDtype(dtype), d,
                            attentionChunk);
                } catch (Exception e) {
                    zs.close();
                    throw e;
                }
            }
        }
        try (zs; sd; ClipTextModel clip = model.loadModel()) {
            if (m == EvalMode.REFACT && hp.layer() >= clip.config().numHiddenLayers()) {
                throw new IllegalArgumentException("layer " + hp.layer() + " is outside the model's "
                        + clip.config().numHiddenLayers() + " layers (0.." + (clip.config().numHiddenLayers() - 1)
                        + "); pass --layer");
            }
            ImageScorer scorer = new ImageScorer(sd, tokenizer, zs, options, identity, imageDir);
            EvaluationRunner.Builder b = EvaluationRunner.builder().mode(m).scorer(scorer).seeds(seedList)
                    .results(dir.resolve("results.jsonl")).listener(EvalSupport.progress(spec.commandLine().getErr(), "eval"));
            if (remote != null) {
                b.executor(remote);
            }
            CovarianceStats stats = m == EvalMode.REFACT
                    ? StatsSupport.loadOrCompute(edit.stats, clip, tokenizer, hp.layer(), spec.commandLine().getErr(),
                            edit.allowForeignStats) : null;
            try (stats) {
                if (stats != null) {
                    b.editor(tokenizer, stats, hp).allowStatisticsOfOtherModels(edit.allowForeignStats);
                }
                EvaluationRunner runner = b.build();
                EvaluationResult r = runner.run(clip, dataset, rows);
                Map<Integer, Path> grids = imageDir == null ? Map.of() : grids(r, runner, rows, seedList, imageDir);
                List<Path> files = EvaluationReport.write(r, dir, grids);
                spec.commandLine().getOut().println(EvalTextCommand.summary(r, dir, files));
            }
        }
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** One grid per row: rows = probes, columns = seeds, from the images on disk (missing ones are skipped). */
    Map<Integer, Path> grids(EvaluationResult r, EvaluationRunner runner, List<EvalCase> rows,
                             List<Integer> seeds, Path imageDir) throws java.io.IOException {
        Map<Integer, Path> out = new TreeMap<>();
        for (EvalCase c : rows) {
            if (r.cells().stream().noneMatch(x -> x.row() == c.row() && !x.failed())) {
                continue;
            }
            List<TwoWayProbe> probes = runner.probes(c);
            List<List<BufferedImage>> grid = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            int[] index = new int[ProbeKind.values().length];
            boolean complete = true;
            for (int i = 0; i < probes.size() && complete; i++) {
                TwoWayProbe p = probes.get(i);
                int k = index[p.kind().ordinal()]++;
                List<BufferedImage> line = new ArrayList<>();
                for (int seed : seeds) {
                    Path f = ImageScorer.imagePath(imageDir, c.row(), seed, i, p.kind(), k);
                    if (!Files.isRegularFile(f)) {
                        complete = false;
                        break;
                    }
                    line.add(thumbnail(dev.refact.clip.vision.RgbImage.read(f).toBufferedImage(), 96)); // bounded, names the file
                }
                grid.add(line);
                labels.add(p.kind().name().charAt(0) + Integer.toString(k) + ": " + shorten(p.prompt()));
            }
            if (!complete) {
                spec.commandLine().getErr().println("refact: no image grid for row " + c.row() + " (some images were not saved; rerun "
                        + "with --save-images into a new folder to have them all)");
                continue;
            }
            BufferedImage img = ImageGrid.compose(grid, labels, seeds.stream().map(s -> "seed " + s).toList(),
                    c.label());
            Path f = imageDir.resolve("row" + c.row() + ".png");
            Images.writePng(img, f);
            out.put(c.row(), f);
        }
        return out;
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 39) + "…" : s;
    }

    /** The image scaled so that its long side is {@code size} (nearest neighbour when enlarging tiny images). */
    private static BufferedImage thumbnail(BufferedImage img, int size) {
        double f = (double) size / Math.max(img.getWidth(), img.getHeight());
        if (f == 1) {
            return img;
        }
        int w = Math.max(1, (int) Math.round(img.getWidth() * f));
        int h = Math.max(1, (int) Math.round(img.getHeight() * f));
        BufferedImage t = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = t.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, f > 1 ? RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR
                : RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return t;
    }
}
