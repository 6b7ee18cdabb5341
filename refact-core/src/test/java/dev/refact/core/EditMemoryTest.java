package dev.refact.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import dev.refact.core.stats.CovarianceStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 1,000 edits keep native memory flat without any explicit GC: each edit's search, keys, statistics solve and
 * journal entry are freed when the edit is undone (one owner per tensor). A leak of even one [d_out, d_in] weight
 * copy per edit (here 64×37 floats ≈ 9 KB, at SD size 9 MiB) or of the search's activations would show as steady
 * growth; RSS also counts the Java heap pages the JVM touches while it sizes its young generation, so the test warms
 * up first and compares the second half of the run with the first.
 */
@Tag("slow")
final class EditMemoryTest {
    private static double rssMiB() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return -1;
    }

    @Test
    void thousandEdits_undoneEachTime_keepRssFlat_withoutExplicitGc() throws IOException {
        ClipTokenizer tokenizer = TinyFixture.tokenizer();
        try (ClipTextModel model = TinyFixture.model();
             CovarianceStats stats = TinyFixture.stats(model, tokenizer, 1, 0.01)) {
            // threshold 1 forces every search to its step cap: the same work each edit
            Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(3).probabilityThreshold(1.0).build();
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
            String base = model.fingerprint();
            double warm = 0;
            double mid = 0;
            for (int i = 0; i < 1000; i++) {
                EditRequest request = EditRequest.of("The President of country " + (i % 50), "Donald Trump",
                        "Joe Biden");
                EditResult result = editor.edit(model, request);
                result.undo();
                if (i == 199) {
                    warm = rssMiB();
                } else if (i == 599) {
                    mid = rssMiB();
                }
            }
            double end = rssMiB();
            assertEquals(base, model.fingerprint(), "every edit was undone");
            assertTrue(end - mid < 24 && mid - warm < 48, String.format(
                    "RSS grew: %.1f MiB after 200 edits, %.1f after 600, %.1f after 1,000", warm, mid, end));
        }
    }
}
