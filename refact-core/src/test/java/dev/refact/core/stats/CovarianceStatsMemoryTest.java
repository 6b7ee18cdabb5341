package dev.refact.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.ClipTextModel;
import dev.refact.clip.tokenizer.ClipTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Native memory stays flat while streaming many texts (every batch's tensors are freed). */
@Tag("slow")
final class CovarianceStatsMemoryTest {
    @TempDir
    Path dir;

    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D+", ""));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void compute_16000Texts_rssFlatOverTheLast10000() throws Exception {
        List<String> prompts = StatsFixtures.prompts();
        int total = 16_000;
        // a generated, streamed corpus: prompts with a running number, never held as a list
        Iterable<String> corpus = () -> new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return i < total;
            }

            @Override
            public String next() {
                String s = prompts.get(i % prompts.size()) + " number " + i;
                i++;
                return s;
            }
        };
        long[] rss = new long[3];
        ClipTokenizer tok = StatsFixtures.tokenizer();
        try (ClipTextModel model = StatsFixtures.model();
             CovarianceStats s = CovarianceStats.compute(model, tok, 2, corpus, StatsOptions.builder().batchSize(32)
                     .checkpoint(dir.resolve("ck.safetensors")).checkpointEvery(2_000).build(), p -> {
                         if (p.texts() % 992 == 0) {
                             System.gc();      // keep Java-heap garbage (tokenizer strings) from touching new pages
                         }
                         if (p.texts() == 2_016) {
                             rss[0] = rssKb();
                         } else if (p.texts() == 6_016) {
                             rss[1] = rssKb();
                         } else if (p.finished()) {
                             rss[2] = rssKb();
                         }
                     })) {
            assertEquals(total, s.provenance().texts());
        }
        // the first thousands of texts warm up the allocator; after that a leak would grow linearly (one batch's
        // keys, ~0.3 MB, leaked per batch would add ~100 MB over 10,000 texts). Measured: 0-4 MB.
        long growthKb = rss[2] - rss[1];
        System.out.printf("RSS after 2,016 texts %d MB, after 6,016 %d MB, after 16,000 %d MB%n",
                rss[0] / 1024, rss[1] / 1024, rss[2] / 1024);
        assertTrue(growthKb < 10 * 1024, "RSS grew by " + growthKb / 1024 + " MB over the last 10,000 texts");
    }
}
