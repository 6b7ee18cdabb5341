package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.TextEncoderFamily;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Option;

/**
 * The options every model-using command shares: {@code --model}, {@code --encoder}, {@code --tokenizer},
 * {@code --device}.
 *
 * <p>{@code --model} is any layout {@code ClipTextModel.load(path, encoder, device, dtype)} detects (folders and
 * single-file SD 1.x / 2.x / SDXL checkpoints). Tokenizer resolution when {@code --tokenizer} is absent: for a
 * folder, {@code MODEL/tokenizer} (or {@code MODEL/tokenizer_2} for SDXL's encoder 2), then {@code MODEL/../tokenizer}
 * (a {@code text_encoder/} folder inside a diffusers root), then {@code MODEL} itself when it holds
 * {@code vocab.json}; otherwise (and always for single files) the CLIP vocabulary bundled in refact-clip. The
 * tokenizer pads the way the detected family does (end token for SD 1.x and SDXL encoder 1, 0 for SD 2.x and
 * SDXL encoder 2).
 */
final class ModelOptions {
    /** The command this mixin belongs to (null when built by hand, e.g. by {@code demo}). */
    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec mixee;

    @Option(names = "--model", required = true, paramLabel = "PATH",
            description = "Text encoder: a diffusers root (uses text_encoder/), a text_encoder/ folder, a CLIP folder, "
                    + "an SDXL root, or a single-file SD 1.x / SD 2.x / SDXL checkpoint (.safetensors; layout "
                    + "detected from its tensor names).")
    Path model;

    @Option(names = "--encoder", paramLabel = "1|2", defaultValue = "1",
            description = "Which text encoder of an SDXL checkpoint: 1 (CLIP ViT-L, default) or 2 (OpenCLIP bigG, "
                    + "projected). Each needs its own statistics.")
    int encoder = 1;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Tokenizer folder (vocab.json + merges.txt) or bpe_simple_vocab_16e6.txt.gz; "
                    + "default: found beside the model.")
    Path tokenizer;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu (default), cuda or cuda:N.")
    String device;

    ClipTextModel loadModel() throws IOException {
        checkEncoder();
        try (Device d = Tensors.device(device)) {
            return ClipTextModel.load(model, encoder, d, torch.ScalarType.Float);
        }
    }

    /**
     * The tokenizer (see the class comment), padding as the detected family does.
     *
     * @throws IOException if the model's layout cannot be detected or a tokenizer folder is malformed
     */
    ClipTokenizer loadTokenizer() throws IOException {
        checkEncoder();
        Path found = tokenizer != null ? tokenizer : findTokenizer();
        ClipTokenizer base = found != null ? ClipTokenizer.load(found) : ClipTokenizer.bundled();
        if (found == null && mixee != null) {
            mixee.commandLine().getErr().println("refact: no tokenizer/ folder with the model; using the bundled "
                    + "CLIP vocabulary (openai bpe_simple_vocab_16e6, the vocabulary of every SD text encoder)");
        }
        return base.withPadding(TextEncoderFamily.detect(model, encoder).padding());
    }

    private void checkEncoder() {
        if (encoder != 1 && encoder != 2) {
            throw usage("--encoder must be 1 or 2, got " + encoder);
        }
    }

    /**
     * {@code --tokenizer}, else a tokenizer folder beside a folder model, else {@code null} (the bundled vocabulary).
     */
    Path tokenizerPath() {
        return tokenizer != null ? tokenizer : findTokenizer();
    }

    /** A tokenizer folder beside a folder model, or null (then the bundled vocabulary is used). */
    private Path findTokenizer() {
        Path m = model.toAbsolutePath().normalize();
        if (!Files.isDirectory(m)) {
            return null;
        }
        Path[] candidates = encoder == 2 && Files.isDirectory(m.resolve("tokenizer_2"))
                ? new Path[] {m.resolve("tokenizer_2")}
                : new Path[] {m.resolve("tokenizer"), m.resolveSibling("tokenizer"), m};
        for (Path c : candidates) {
            if (Files.isRegularFile(c.resolve("vocab.json"))
                    || Files.isRegularFile(c.resolve(ClipTokenizer.OPENAI_BPE_FILE))) {
                return c;
            }
        }
        return null;
    }

    /**
     * Refuses, before any work, an {@code --out FILE.safetensors} that is the model's own input file.
     *
     * @throws picocli.CommandLine.ParameterException (a usage error) when it is
     */
    void checkOutput(Path out) throws IOException {
        if (out == null || !out.getFileName().toString().endsWith(".safetensors") || !Files.exists(out)) {
            return;
        }
        if (Files.isRegularFile(model) && Files.isSameFile(model, out)) {
            throw usage("--out " + out + " is the input checkpoint; refusing to overwrite it (choose another file)");
        }
    }

    private RuntimeException usage(String message) {
        return mixee != null ? new picocli.CommandLine.ParameterException(mixee.commandLine(), message)
                : new IllegalArgumentException(message);
    }
}
