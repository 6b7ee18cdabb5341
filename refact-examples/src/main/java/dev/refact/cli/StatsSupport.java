package dev.refact.cli;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import java.nio.file.Path;

/** Statistics for the commands that edit: loaded from a file (refact stats), or computed on the fly. */
final class StatsSupport {
    private StatsSupport() {
    }

    static CovarianceStats loadOrCompute(Path file, ClipTextModel model, ClipTokenizer tokenizer, int layer) {
        throw new IllegalArgumentException("statistics loading lands with the stats module (issue 3)");
    }
}
