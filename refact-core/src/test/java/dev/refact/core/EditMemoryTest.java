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
 * Thousands of edits keep native memory flat without any explicit GC (1,000 edits of warm-up, then 1,000 measured): each edit's search, keys, statistics solve and
 * journal entry are freed when the edit is undone (one owner per tensor). A leak of even one [d_out, d_in] weight
 * copy per edit (here 64×37 floats ≈ 9 KB, at SD size 9 MiB) or of the search's activations would show as steady
 * growth. RSS also counts the Java heap pages the JVM touches while it grows its heap (the edits' Java garbage is
 * collected only when the young generation fills, which a default-sized heap may not do for hundreds of edits), so
 * the test measures native memory as RSS minus the committed Java heap, warms up first, and compares stretches of
 * the run.
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

    /** RSS minus the committed Java heap, in MiB: the process's native memory (plus code and metaspace). */
    private static double nativeMiB() throws IOException {
        long heap = Runtime.getRuntime().totalMemory(); // the committed heap
        return rssMiB() - heap / (1024.0 * 1024.0);
    }

    @Test
    void thousandsOfEdits_undoneEachTime_keepNativeMemoryFlat_withoutExplicitGc() throws IOException {
        ClipTokenizer tokenizer = TinyFixture.tokenizer();
        try (ClipTextModel model = TinyFixture.model();
             CovarianceStats stats = TinyFixture.stats(model, tokenizer, 1, 0.01)) {
            // threshold 1 forces every search to its step cap: the same work each edit
            Hyperparameters hp = TinyFixture.hyperparameters().maxSteps(3).probabilityThreshold(1.0).build();
            Editor editor = Editor.builder().tokenizer(tokenizer).statistics(stats).hyperparameters(hp).build();
            String base = model.fingerprint();
            double warm = 0;
            double mid = 0;
            long pointersWarm = 0;
            for (int i = 0; i < 2000; i++) {
                EditRequest request = EditRequest.of("The President of country " + (i % 50), "Donald Trump",
                        "Joe Biden");
                EditResult result = editor.edit(model, request);
                result.undo();
                if (i == 999) {
                    warm = nativeMiB();
                    pointersWarm = org.bytedeco.javacpp.Pointer.totalCount();
                } else if (i == 1499) {
                    mid = nativeMiB();
                }
            }
            double end = nativeMiB();
            // every native object an edit makes is closed by its owner: the number of live JavaCPP deallocators
            // (objects not yet closed) does not grow; an unclosed tensor per edit would add 1,000
            long pointersEnd = org.bytedeco.javacpp.Pointer.totalCount();
            assertEquals(base, model.fingerprint(), "every edit was undone");
            // after 1,000 edits of warm-up (allocator pools, heap sizing). RSS also holds the JIT's code cache and
            // compiler arenas, which still grow by some MiB here; a leak of one SD-size weight copy per edit would
            // add 9 GiB, of this tiny model's weight ~9 MiB per 1,000 edits plus its tensors' deallocators.
            String msg = String.format("native memory (RSS − committed heap) %.1f MiB after 1,000 edits, %.1f after "
                    + "1,500, %.1f after 2,000; live JavaCPP objects %d → %d", warm, mid, end, pointersWarm,
                    pointersEnd);
            System.out.println(msg);
            assertTrue(pointersEnd - pointersWarm < 50, msg);
            assertTrue(end - warm < 48, msg);
        }
    }
}
