package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat across denoising steps: the tiny pipeline on 32×32 latents (1024-token
 * attention, a few hundred temporaries per step) for 12 PNDM steps. Two measures: the number of live JavaCPP
 * objects (exact: a leaked step scope leaves hundreds of unclosed tensors per step) and the process's native memory,
 * RSS minus the committed Java heap (noisy by ±15 MB on a busy machine, so its bound is loose: a leaked step's
 * attention maps alone are ~16 MB, over 7 steps > 100 MB).
 */
@Tag("slow") // ~50 s on a loaded 2-core machine (1024-token attention at every step)
final class MemoryTest {

    @Test
    void generate_manySteps_residentMemoryFlat() throws IOException {
        List<Double> rss = new ArrayList<>();
        List<Long> live = new ArrayList<>();
        try (Golden golden = new Golden();
             StableDiffusionPipeline sd = StableDiffusionPipeline.load(Golden.dir(), ScalarType.Float, Tensors.cpu(),
                     0);
             PointerScope scope = new PointerScope()) {
            Tensor cond = golden.slice("e2e.prompt_embeds", 2, 1);
            Tensor uncond = golden.slice("e2e.prompt_embeds", 0, 1);
            GenerationOptions o = new GenerationOptions(12, 7.5, SchedulerKind.PNDM, 3, 64, 64);
            try (Generation g = sd.generate(cond, uncond, o, null, (step, total, elapsed, eta) -> {
                rss.add(nativeMb());
                live.add(Pointer.totalCount());
            })) {
                assertTrue(g.latents().size(2) == 32);
            }
        }
        // The last callback includes the decode, so compare step 4 (warm) with the last denoising step.
        int n = rss.size() - 1; // drop the final callback
        String msg = "live JavaCPP objects per step " + live + "; RSS − heap per step " + rss;
        System.out.println(msg);
        assertTrue(live.get(n - 1) - live.get(3) < 20, "native objects outlive their step: " + msg);
        double settled = mean(rss.subList(1, 5));
        double last = mean(rss.subList(n - 4, n));
        assertTrue(last - settled < 48, "native memory grew from " + settled + " MB to " + last + " MB: " + msg);
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** RSS minus the committed Java heap, in MB: the process's native memory (plus code and metaspace). */
    private static double nativeMb() {
        return rssMb() - Runtime.getRuntime().totalMemory() / (1024.0 * 1024.0);
    }

    private static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Double.NaN;
    }
}
