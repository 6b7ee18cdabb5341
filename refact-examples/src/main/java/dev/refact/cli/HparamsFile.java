package dev.refact.cli;

import dev.refact.clip.io.TextFiles;
import dev.refact.core.Hyperparameters;
import java.io.IOException;
import java.nio.file.Path;

/** Reads an {@code --hparams} file: bounded, strict UTF-8, errors naming the file. */
final class HparamsFile {
    /** Hyperparameter files are small; 1 MiB is far more than any needs. */
    static final long MAX_BYTES = 1L << 20;

    private HparamsFile() {
    }

    /**
     * A named preset of {@code --preset}.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the names)
     */
    static Hyperparameters preset(String name) {
        return switch (name) {
            case "role-edits" -> Hyperparameters.roleEdits();
            case "appearance-edits" -> Hyperparameters.appearanceEdits();
            case "released-code" -> Hyperparameters.releasedCode();
            default -> throw new IllegalArgumentException("unknown --preset '" + name
                    + "' (role-edits, appearance-edits, released-code)");
        };
    }

    /** A builder's message in the words of the command line: flag names for the fields a flag sets. */
    static String flagNames(String message) {
        return message.replace("v_lr", "--lr").replace("v_max_grad_steps", "--steps")
                .replaceFirst("^layer must", "--layer must").replaceFirst("^num_contrastive", "--num-contrastive");
    }

    static Hyperparameters read(Path file) throws IOException {
        String text = TextFiles.readString(file, MAX_BYTES);
        if (text.isBlank()) {
            throw new IllegalArgumentException("--hparams " + file + " is empty");
        }
        try {
            return Hyperparameters.fromJson(text);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--hparams " + file + ": " + e.getMessage(), e);
        }
    }
}
