package dev.refact.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.refact.clip.ClipTextModel;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import dev.refact.diffusion.ClipPromptEncoder;
import dev.refact.diffusion.Generation;
import dev.refact.diffusion.GenerationOptions;
import dev.refact.diffusion.Images;
import dev.refact.diffusion.ProgressListener;
import dev.refact.diffusion.StableDiffusionPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code refact generate}: Stable Diffusion 1.x text-to-image from a diffusers folder or a single file. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate images with a Stable Diffusion 1.x diffusers folder (unet/, vae/, scheduler/, "
                + "text_encoder/, tokenizer/) or single-file checkpoint (.safetensors, LDM layout), as diffusers' "
                + "StableDiffusionPipeline does.",
            "A seed gives the same image on the same machine (the noise equals torch.randn with a CPU generator "
                + "seeded with it). Progress goes to stderr, a JSON summary to stdout."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @picocli.CommandLine.Mixin
    SdModelOptions sdOptions;

    @Option(names = "--prompt", arity = "1..*", paramLabel = "TEXT",
            description = "Prompt(s); one image each. Not needed with --prompt-embeds.")
    List<String> prompts;

    @Option(names = "--negative", paramLabel = "TEXT", defaultValue = "",
            description = "Negative prompt for classifier-free guidance (default: empty).")
    String negative;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Noise seed (default 0).")
    long seed;

    @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "Denoising steps (default 50).")
    int steps;

    @Option(names = "--guidance", defaultValue = "7.5", paramLabel = "G",
            description = "Guidance scale (default 7.5; <= 1 turns guidance off).")
    double guidance;

    @Option(names = "--scheduler", defaultValue = "pndm", paramLabel = "NAME",
            description = "pndm (default), ddim or euler.")
    String scheduler;

    @Option(names = "--height", defaultValue = "512", paramLabel = "PX", description = "Height, multiple of 8.")
    int height;

    @Option(names = "--width", defaultValue = "512", paramLabel = "PX", description = "Width, multiple of 8.")
    int width;

    @Option(names = "--out", defaultValue = "image.png", paramLabel = "FILE",
            description = "PNG to write; with several prompts FILE-0.png, FILE-1.png, ... (default image.png).")
    Path out;

    @Option(names = "--latents", paramLabel = "FILE",
            description = "Initial latents: a .safetensors file with 'latents' [b,4,H/8,W/8] (replaces --seed).")
    Path latentsFile;

    @Option(names = "--prompt-embeds", paramLabel = "FILE",
            description = "Text states instead of prompts: 'prompt_embeds' and 'negative_prompt_embeds' [b,77,d].")
    Path embedsFile;

    @Option(names = "--save-tensors", paramLabel = "FILE",
            description = "Also write 'final_latents' [b,4,h,w] and 'image' [b,3,H,W] in [-1,1] to this .safetensors.")
    Path saveTensors;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "T",
            description = "Compute dtype of UNet and VAE: f32 (default), f16 or bf16.")
    String dtype;

    @Option(names = "--attention-chunk", defaultValue = "1024", paramLabel = "N",
            description = "Queries per attention chunk, bounds attention memory (0 = unchunked; default 1024).")
    int attentionChunk;

    @Override
    public Integer call() throws Exception {
        // output locations checked before any loading or computing
        if (out != null) {
            dev.refact.clip.io.AtomicFiles.checkCanCreate(out);
        }
        if (saveTensors != null) {
            dev.refact.clip.io.AtomicFiles.checkCanCreate(saveTensors);
        }
        GenerationOptions options = GenerationFlags.options("--steps", steps, guidance, scheduler, seed,
                height, width);
        if (embedsFile == null && (prompts == null || prompts.isEmpty())) {
            throw new IllegalArgumentException("give --prompt TEXT or --prompt-embeds FILE");
        }
        if (embedsFile != null && prompts != null && !prompts.isEmpty()) {
            throw new IllegalArgumentException("give either --prompt or --prompt-embeds, not both");
        }
        long start = System.nanoTime();
        try (Device device = Tensors.device(sdOptions.deviceName);
             StableDiffusionPipeline sd = StableDiffusionPipeline.load(sdOptions.sdDir, parseDtype(dtype), device,
                     attentionChunk);
             PointerScope scope = new PointerScope()) {
            Tensor latents = latentsFile == null ? null : readTensor(latentsFile, "latents", true);
            Generation g;
            if (embedsFile != null) {
                Tensor cond = readTensor(embedsFile, "prompt_embeds", false);
                Tensor uncond = options.guided() ? readTensor(embedsFile, "negative_prompt_embeds", false) : null;
                g = sd.generate(cond, uncond, options, latents, progress(spec.commandLine().getErr()));
            } else {
                ClipTokenizer tokenizer = sdOptions.textEncoder().loadTokenizer();
                try (ClipTextModel clip = sdOptions.textEncoder().loadModel()) {
                    ClipPromptEncoder encoder = new ClipPromptEncoder(clip, tokenizer);
                    g = sd.generate(encoder, prompts, List.of(negative), options, latents,
                            progress(spec.commandLine().getErr()));
                }
            }
            try (Generation result = g) {
                JsonArray files = writeImages(result.toImages(), out);
                if (saveTensors != null) {
                    new SafetensorsWriter().metadata("refact.kind", "generation")
                            .metadata("scheduler", options.scheduler().name().toLowerCase(Locale.ROOT))
                            .metadata("steps", Integer.toString(steps))
                            .metadata("guidance_scale", Double.toString(guidance))
                            .metadata("seed", latentsFile == null ? Long.toString(seed) : "given latents")
                            .add("final_latents", result.latents()).add("image", result.image()).write(saveTensors);
                }
                JsonObject summary = new JsonObject();
                summary.add("images", files);
                if (saveTensors != null) {
                    summary.addProperty("tensors", saveTensors.toString());
                }
                summary.addProperty("scheduler", options.scheduler().name().toLowerCase(Locale.ROOT));
                summary.addProperty("steps", steps);
                summary.addProperty("guidance_scale", guidance);
                summary.addProperty("seed", latentsFile == null ? Long.toString(seed) : "given latents");
                summary.addProperty("seconds", (System.nanoTime() - start) / 1e9);
                spec.commandLine().getOut().println(summary);
            spec.commandLine().getOut().flush();
            }
        }
        return 0;
    }

    static ScalarType parseDtype(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "f32":
            case "float32":
                return ScalarType.Float;
            case "f16":
            case "float16":
                return ScalarType.Half;
            case "bf16":
            case "bfloat16":
                return ScalarType.BFloat16;
            default:
                throw new IllegalArgumentException("unknown dtype '" + s + "': use f32, f16 or bf16");
        }
    }

    /** Denoising progress (a bar on a terminal, plain lines otherwise, nothing with --quiet), one per image batch. */
    static ProgressListener progress(java.io.PrintWriter err) {
        Progress[] bar = {null};
        return (step, total, elapsed, eta) -> {
            if (bar[0] == null || step == 1) {
                if (bar[0] != null) {
                    bar[0].close();
                }
                bar[0] = Progress.start(err, "denoising", total, "steps", elapsed);
            }
            bar[0].stepTo(step);
        };
    }

    /** A float tensor from a .safetensors file (attached to the caller's scope). */
    static Tensor readTensor(Path file, String name, boolean onlyTensorOk) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String n = name;
            if (!f.contains(name)) {
                if (onlyTensorOk && f.names().size() == 1) {
                    n = f.names().get(0);
                } else {
                    throw new IllegalArgumentException(file + ": no tensor '" + name + "' (has " + f.names() + ")");
                }
            }
            return Tensors.handOff(f.toTensor(n, ScalarType.Float, Tensors.cpu()));
        }
    }

    /** Writes one PNG per image: {@code out} for one, {@code out-i.png} for several. */
    static JsonArray writeImages(List<BufferedImage> images, Path out) throws IOException {
        JsonArray files = new JsonArray();
        for (int i = 0; i < images.size(); i++) {
            Path p = images.size() == 1 ? out : indexed(out, i);
            Images.writePng(images.get(i), p);
            files.add(p.toString());
        }
        return files;
    }

    private static Path indexed(Path out, int i) {
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : ".png";
        return out.resolveSibling(stem + "-" + i + ext);
    }
}
