package dev.refact.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options of the commands that run Stable Diffusion: {@code --model SD_DIR}, {@code --tokenizer},
 * {@code --device}; {@link #textEncoder()} gives the text-encoder options of the other commands, pointed at the
 * same folder.
 */
final class SdModelOptions {
    @Option(names = "--model", required = true, paramLabel = "SD_DIR",
            description = "Stable Diffusion 1.x diffusers folder: unet/, vae/, scheduler/ (and text_encoder/, "
                    + "tokenizer/ for prompts).")
    Path sdDir;

    @Option(names = "--tokenizer", paramLabel = "DIR",
            description = "Tokenizer folder (default: SD_DIR/tokenizer).")
    Path tokenizerDir;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu",
            description = "cpu (default), cuda or cuda:N.")
    String deviceName;

    /** The text-encoder options, pointed at this SD folder. */
    ModelOptions textEncoder() {
        ModelOptions m = new ModelOptions();
        m.model = sdDir;
        m.tokenizer = tokenizerDir;
        m.device = deviceName;
        return m;
    }
}
