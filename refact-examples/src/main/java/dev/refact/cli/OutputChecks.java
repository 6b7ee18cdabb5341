package dev.refact.cli;

import dev.refact.clip.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** Output locations checked before any loading or computing (write-permission problems found up front). */
final class OutputChecks {
    private OutputChecks() {
    }

    /** {@code --out} of edit/apply: a folder, or a single {@code .safetensors} file. */
    static void folderOrSafetensors(Path out) throws IOException {
        if (out.getFileName() != null && out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            AtomicFiles.checkCanCreate(out);
        } else {
            AtomicFiles.checkWritableDirectory(out);
        }
    }
}
