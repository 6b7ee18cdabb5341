package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the files of a diffusers component folder ({@code unet/}, {@code vae/}, ...). */
final class ModelFiles {
    private static final String[] WEIGHT_FILES = {
        "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
    };

    private ModelFiles() {
    }

    /** {@code dir/config.json}. */
    static Path config(Path dir) throws CheckpointFormatException {
        requireDir(dir);
        Path p = dir.resolve("config.json");
        if (!Files.isRegularFile(p)) {
            throw new CheckpointFormatException(p, "file not found (a diffusers component folder has config.json)");
        }
        return p;
    }

    /** The safetensors weights of a component folder; pickled {@code .bin} files are refused. */
    static Path weights(Path dir) throws IOException {
        requireDir(dir);
        for (String name : WEIGHT_FILES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        if (Files.isRegularFile(dir.resolve("diffusion_pytorch_model.bin"))) {
            throw new CheckpointFormatException(dir.resolve("diffusion_pytorch_model.bin"),
                    "pickled PyTorch weights are not loaded (they can run code); convert the folder to "
                    + "safetensors (diffusers: save_pretrained(..., safe_serialization=True))");
        }
        throw new CheckpointFormatException(dir, "no diffusion_pytorch_model.safetensors");
    }

    static void requireDir(Path dir) throws CheckpointFormatException {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointFormatException(dir, "component folder not found");
        }
    }
}
