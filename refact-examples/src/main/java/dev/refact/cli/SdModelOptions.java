package dev.refact.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of the commands that run Stable Diffusion: {@code --model SD}, {@code --text-encoder},
 * {@code --tokenizer}, {@code --device}; {@link #textEncoder()} gives the text-encoder options of the other
 * commands, pointed at {@code --text-encoder} or else the same model.
 */
final class SdModelOptions {
    @Option(names = "--model", required = true, paramLabel = "SD",
            description = "Stable Diffusion 1.x: a diffusers folder (unet/, vae/, scheduler/, text_encoder/, "
                    + "tokenizer/) or a single-file checkpoint (.safetensors in the original LDM layout, e.g. "
                    + "v1-5-pruned-emaonly.safetensors; SD 1.x scheduler settings).")
    Path sdDir;

    @Option(names = "--text-encoder", paramLabel = "PATH",
            description = "Text encoder to condition on (default: the one in --model), e.g. an edited text_encoder/.")
    Path textEncoderPath;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Tokenizer folder (default: SD_DIR/tokenizer, else the bundled CLIP vocabulary).")
    Path tokenizerDir;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu (default), cuda or cuda:N.")
    String deviceName;

    /** The text-encoder options, pointed at {@code --text-encoder} or this SD model. */
    ModelOptions textEncoder() {
        ModelOptions m = new ModelOptions();
        m.model = textEncoderPath != null ? textEncoderPath : sdDir;
        m.tokenizer = tokenizerDir;
        m.device = deviceName;
        return m;
    }
}
