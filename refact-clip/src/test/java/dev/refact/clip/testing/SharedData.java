package dev.refact.clip.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates {@code ../shared/data} (read-only fixtures laid beside the repository by CI).
 *
 * <p>Surefire passes {@code refact.shared.dir}; when run from an IDE we walk up from the working
 * directory looking for a sibling {@code shared/data}. Fixtures are read in place, never copied.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The {@code shared/data} directory; fails the test clearly when absent. */
    public static Path dataDir() {
        String prop = System.getProperty("refact.shared.dir");
        if (prop != null && Files.isDirectory(Paths.get(prop, "data"))) {
            return Paths.get(prop, "data").toAbsolutePath().normalize();
        }
        Path p = Paths.get("").toAbsolutePath();
        while (p != null) {
            Path candidate = p.resolveSibling("shared").resolve("data");
            if (Files.isDirectory(candidate)) {
                return candidate.normalize();
            }
            p = p.getParent();
        }
        throw new IllegalStateException("../shared/data not found beside the repository "
                + "(set -Drefact.shared.dir=/path/to/shared)");
    }

    /** A path under {@code shared/data}, e.g. {@code resolve("clip-tokenizer/vocab.json")}. */
    public static Path resolve(String relative) {
        Path p = dataDir().resolve(relative);
        if (!Files.exists(p)) {
            throw new IllegalStateException("shared fixture missing: " + p);
        }
        return p;
    }

    /** Skips (not fails) a test that needs a CUDA device when none is present. */
    public static void assumeCuda() {
        dev.refact.clip.torch.TorchRuntime.ensureLoaded();
        Assumptions.assumeTrue(org.bytedeco.pytorch.global.torch.cuda_is_available(), "no CUDA device");
    }
}
