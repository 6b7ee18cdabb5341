package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat without any explicit GC (the JVM's heap as the test JVM sizes it): loading and closing a
 * model frees its weights at once (one owner per tensor), and an encode leaves nothing behind. RSS counts the Java
 * heap pages the JVM touches as it sizes its young generation, so each test warms up first and then measures a long
 * stretch; a leak of one tiny model per cycle (6.5 MB) or of a few KB per encode would exceed the bounds.
 */
@Tag("slow")
final class ClipTextModelMemoryTest {
    private static final Path FIXTURE = SharedData.resolve("models/tiny-random-clip-text");

    static double rssMiB() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return -1;
    }

    static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, b.getCollectionCount());
        }
        return n;
    }

    private static void encodeOnce(ClipTextModel m, int i) {
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
    }

    @Test
    void loadClose_hundredCycles_weightsFreedAtOnce_rssFlat() throws IOException {
        for (int i = 0; i < 20; i++) {
            ClipTextModel.load(FIXTURE).close();
        }
        double before = rssMiB();
        long gc0 = gcCount();
        List<Tensor> closedWeights = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            try (ClipTextModel m = ClipTextModel.load(FIXTURE)) {
                Tensor w = m.parameter(ClipTextModel.fc2WeightName(0));
                assertEquals(1, w.referenceCount(), "a loaded weight has exactly one owner");
                if (i % 10 == 0) {
                    closedWeights.add(w);
                }
                encodeOnce(m, i);
            }
        }
        double after = rssMiB();
        System.out.printf("100 load/close cycles: RSS %.0f -> %.0f MiB (%d GCs, none explicit)%n", before, after,
                gcCount() - gc0);
        closedWeights.forEach(w -> assertTrue(w.isNull(), "close() freed the weight"));
        assertTrue(after - before < 40, "RSS grew from " + before + " to " + after + " MiB over 100 load/close cycles");
    }

    @Test
    void encode_tenThousandPrompts_rssStaysFlat_withoutExplicitGc() throws IOException {
        try (ClipTextModel m = ClipTextModel.load(FIXTURE)) {
            int i = 0;
            // warm-up: until the JVM has sized and cycled its young generation a few times
            long gc0 = gcCount();
            while (i < 10_000 || gcCount() - gc0 < 3) {
                encodeOnce(m, i++);
                if (i > 60_000) {
                    break;
                }
            }
            double start = rssMiB();
            for (int k = 0; k < 10_000; k++) {
                encodeOnce(m, i++);
            }
            double end = rssMiB();
            System.out.printf("10,000 encodes after %d warm-up encodes: RSS %.0f -> %.0f MiB (%d GCs, none explicit, "
                    + "heap committed %d MiB)%n", i - 10_000, start, end, gcCount() - gc0,
                    Runtime.getRuntime().totalMemory() >> 20);
            assertTrue(end - start < 24, "RSS grew from " + start + " to " + end + " MiB over 10,000 encodes");
        }
    }
}
