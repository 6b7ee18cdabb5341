package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.Option;

/**
 * The options every model-using command shares: {@code --model}, {@code --tokenizer}, {@code --device}.
 *
 * <p>Tokenizer resolution when {@code --tokenizer} is absent: {@code MODEL/tokenizer} (diffusers root), then
 * {@code MODEL/../tokenizer} (a {@code text_encoder/} folder inside a diffusers root), then {@code MODEL}
 * itself when it holds {@code vocab.json}.
 */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Text encoder: a diffusers root (uses text_encoder/), a text_encoder/ folder or a CLIP folder.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Tokenizer folder (vocab.json + merges.txt) or bpe_simple_vocab_16e6.txt.gz; "
                    + "default: found beside the model.")
    Path tokenizer;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu (default), cuda or cuda:N.")
    String device;

    ClipTextModel loadModel() throws IOException {
        try (Device d = Tensors.device(device)) {
            return ClipTextModel.load(model, d, torch.ScalarType.Float);
        }
    }

    ClipTokenizer loadTokenizer() throws IOException {
        return ClipTokenizer.load(tokenizerPath());
    }

    /**
     * {@code --tokenizer}, else {@code MODEL/tokenizer}, else the sibling {@code tokenizer/}, else the model folder
     * (whichever holds {@code vocab.json} or openai's {@code bpe_simple_vocab_16e6.txt.gz}).
     */
    Path tokenizerPath() throws NoSuchFileException {
        if (tokenizer != null) {
            return tokenizer;
        }
        Path m = model.toAbsolutePath().normalize();
        Path folder = Files.isDirectory(m) ? m : m.getParent();
        Path[] candidates = {folder.resolve("tokenizer"), folder.resolveSibling("tokenizer"), folder};
        for (Path c : candidates) {
            if (Files.isRegularFile(c.resolve("vocab.json"))
                    || Files.isRegularFile(c.resolve(ClipTokenizer.OPENAI_BPE_FILE))) {
                return c;
            }
        }
        throw new NoSuchFileException(folder.toString(), null,
                "no tokenizer (vocab.json + merges.txt) in tokenizer/, ../tokenizer/ or the model folder; "
                        + "pass --tokenizer DIR");
    }
}
