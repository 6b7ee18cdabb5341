package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Encoding 10,000 prompts in a loop keeps native memory flat: RSS minus the committed Java heap grows < 48 MiB (observed 23–24 MiB: see docs/benchmarks.md). */
@Tag("slow")
final class ClipTextModelMemoryTest {
    static double rssMiB() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return -1;
    }

    /** Java heap pages the JVM has committed (RSS counts them; they are not native leaks). */
    static double heapMiB() {
        return Runtime.getRuntime().totalMemory() / 1048576.0;
    }

    @Test
    void encode_tenThousandPrompts_rssStaysFlat() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(SharedData.resolve("models/tiny-random-clip-text"))) {
            double afterWarmup = 0;
            for (int i = 0; i < 10_000; i++) {
                try (PointerScope scope = new PointerScope()) {
                    long[] ids = new long[12];
                    ids[0] = 49406;
                    for (int k = 1; k < 11; k++) {
                        ids[k] = (i * 31L + k * 977L) % 49406;
                    }
                    ids[11] = 49407;
                    Tensor t = Tensors.longs(ids, m.device(), 1, 12);
                    try (TextEncoding e = m.encode(t, i % 2 == 0)) {
                        e.pooled().sum().item_float();
                    }
                }
                if (i % 1_000 == 0) {
                    // Java objects of closed tensors are collected with the heap; a GC every 1,000 iterations
                    // keeps the heap (which RSS includes) from growing between measurements.
                    System.gc();
                    if (i == 2_000) {
                        afterWarmup = rssMiB() - heapMiB();
                    }
                }
            }
            System.gc();
            double end = rssMiB() - heapMiB();
            System.out.printf("encode loop RSS minus committed Java heap: %.0f MiB after 2,000, %.0f MiB after 10,000 (Java heap committed %d MiB, JavaCPP bytes %d)%n", afterWarmup, end, Runtime.getRuntime().totalMemory() >> 20, org.bytedeco.javacpp.Pointer.totalBytes());
            assertTrue(end - afterWarmup < 48, "RSS grew from " + afterWarmup + " to " + end + " MiB");
        }
    }
}
