package dev.refact.cli;

import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.core.SavedEdit;
import dev.refact.diffusion.ClipPromptEncoder;
import dev.refact.diffusion.Generation;
import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.ImageGrid;
import dev.refact.diffusion.Images;
import dev.refact.diffusion.StableDiffusionPipeline;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code refact compare}: before/after images of an edit, one column per seed, as one PNG grid. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Generate each prompt with the original text encoder and again after applying the edit "
                + "file(s), for each seed, and write one labelled grid (rows before/after, columns seeds).",
            "The same in-memory text encoder is edited (no reload); the UNet, VAE and noise are shared."})
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    SdModelOptions sdOptions;

    @Option(names = "--edit", required = true, arity = "1..*", paramLabel = "FILE",
            description = "Edit file(s) from 'refact edit', applied in order.")
    List<Path> edits;

    @Option(names = "--prompt", required = true, arity = "1..*", paramLabel = "TEXT", description = "Prompt(s).")
    List<String> prompts;

    @Option(names = "--seeds", defaultValue = "0..3", paramLabel = "LIST",
            description = "Seeds: a range A..B or a comma list (default 0..3).")
    String seeds;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Grid PNG to write.")
    Path out;

    @Option(names = "--negative", paramLabel = "TEXT", defaultValue = "", description = "Negative prompt.")
    String negative;

    @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "Denoising steps (default 50).")
    int steps;

    @Option(names = "--guidance", defaultValue = "7.5", paramLabel = "G", description = "Guidance scale (7.5).")
    double guidance;

    @Option(names = "--scheduler", defaultValue = "pndm", paramLabel = "NAME", description = "pndm, ddim or euler.")
    String scheduler;

    @Option(names = "--height", defaultValue = "512", paramLabel = "PX", description = "Height, multiple of 8.")
    int height;

    @Option(names = "--width", defaultValue = "512", paramLabel = "PX", description = "Width, multiple of 8.")
    int width;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T", description = "f32 (default), f16 or bf16.")
    String dtype;

    @Option(names = "--attention-chunk", defaultValue = "1024", paramLabel = "N",
            description = "Queries per attention chunk (0 = unchunked; default 1024).")
    int attentionChunk;

    @Option(names = "--force", description = "Apply an edit even when it was made on other weights or is "
            + "implausibly large (non-finite results are refused regardless).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        dev.refact.clip.io.AtomicFiles.checkCanCreate(out);
        long[] seedList = parseSeeds(seeds);
        GenerationOptions base = GenerationFlags.options("--steps", steps, guidance, scheduler, 0, height,
                width);
        List<SavedEdit> loaded = new ArrayList<>();
        for (Path p : edits) {
            loaded.add(SavedEdit.load(p)); // validate every file before any work
        }
        ClipTokenizer tokenizer = sdOptions.textEncoder().loadTokenizer();
        long start = System.nanoTime();
        try (Device device = Tensors.device(sdOptions.deviceName);
             ClipTextModel clip = sdOptions.textEncoder().loadModel();
             StableDiffusionPipeline sd = StableDiffusionPipeline.load(sdOptions.sdDir, GenerateCommand.parseDtype(dtype),
                     device, attentionChunk)) {
            ClipPromptEncoder encoder = new ClipPromptEncoder(clip, tokenizer);
            List<List<BufferedImage>> before = render(sd, encoder, base, seedList, "before");
            for (int i = 0; i < loaded.size(); i++) {
                try {
                    loaded.get(i).apply(clip, force);
                } catch (RuntimeException ex) {
                    throw new IllegalStateException(edits.get(i) + ": " + ex.getMessage(), ex);
                }
            }
            List<List<BufferedImage>> after = render(sd, encoder, base, seedList, "after");
            List<List<BufferedImage>> rows = new ArrayList<>();
            List<String> rowLabels = new ArrayList<>();
            for (int p = 0; p < prompts.size(); p++) {
                rows.add(before.get(p));
                rows.add(after.get(p));
                String tag = prompts.size() > 1 ? " #" + (p + 1) : "";
                rowLabels.add("before" + tag);
                rowLabels.add("after" + tag);
            }
            List<String> colLabels = new ArrayList<>();
            for (long s : seedList) {
                colLabels.add("seed " + s);
            }
            String title = String.join(" | ", prompts) + "  —  edit: " + describe(loaded);
            Images.writePng(ImageGrid.compose(rows, rowLabels, colLabels, title), out);
            JsonObject summary = new JsonObject();
            summary.addProperty("grid", out.toString());
            summary.addProperty("prompts", prompts.size());
            summary.addProperty("seeds", seedList.length);
            summary.addProperty("edits", loaded.size());
            summary.addProperty("mean_abs_pixel_change", meanAbsChange(before, after));
            summary.addProperty("seconds", (System.nanoTime() - start) / 1e9);
            spec.commandLine().getOut().println(summary);
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    private List<List<BufferedImage>> render(StableDiffusionPipeline sd, ClipPromptEncoder encoder,
                                             GenerationOptions base, long[] seedList, String phase) {
        List<List<BufferedImage>> perPrompt = new ArrayList<>();
        for (String prompt : prompts) {
            List<BufferedImage> row = new ArrayList<>();
            for (long s : seedList) {
                spec.commandLine().getErr().println("refact: " + phase + ": \"" + prompt + "\" seed " + s);
                try (Generation g = sd.generate(encoder, List.of(prompt), List.of(negative), base.withSeed(s), null,
                        GenerateCommand.progress(spec.commandLine().getErr()))) {
                    row.add(g.toImages().get(0));
                }
            }
            perPrompt.add(row);
        }
        return perPrompt;
    }

    /** Mean |after − before| over all pixels and channels (0..255): did the edit change the images? */
    static double meanAbsChange(List<List<BufferedImage>> before, List<List<BufferedImage>> after) {
        double sum = 0;
        long n = 0;
        for (int p = 0; p < before.size(); p++) {
            for (int k = 0; k < before.get(p).size(); k++) {
                BufferedImage a = before.get(p).get(k);
                BufferedImage b = after.get(p).get(k);
                for (int y = 0; y < a.getHeight(); y++) {
                    for (int x = 0; x < a.getWidth(); x++) {
                        int u = a.getRGB(x, y);
                        int v = b.getRGB(x, y);
                        for (int shift = 0; shift <= 16; shift += 8) {
                            sum += Math.abs(((u >> shift) & 255) - ((v >> shift) & 255));
                            n++;
                        }
                    }
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    private static String describe(List<SavedEdit> edits) {
        List<String> parts = new ArrayList<>();
        for (SavedEdit e : edits) {
            parts.add("\"" + e.request().prompt() + "\" → \"" + e.request().target() + "\"");
        }
        return String.join(", ", parts);
    }

    /**
     * Parses {@code A..B} (inclusive) or {@code a,b,c}.
     *
     * @throws IllegalArgumentException for anything else or more than 64 seeds
     */
    static long[] parseSeeds(String s) {
        String t = s.trim();
        try {
            long[] out;
            if (t.contains("..")) {
                String[] ab = t.split("\\.\\.", -1);
                long a = Long.parseLong(ab[0].trim());
                long b = Long.parseLong(ab[1].trim());
                if (ab.length != 2 || b < a || b - a >= 64) {
                    throw new IllegalArgumentException();
                }
                out = new long[(int) (b - a + 1)];
                for (int i = 0; i < out.length; i++) {
                    out[i] = a + i;
                }
            } else {
                String[] parts = t.split(",");
                out = new long[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    out[i] = Long.parseLong(parts[i].trim());
                }
                if (out.length > 64) {
                    throw new IllegalArgumentException();
                }
            }
            return out;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--seeds '" + s + "': use a range like 0..3 or a list like 1,5,9 "
                    + "(at most 64 seeds)");
        }
    }
}
