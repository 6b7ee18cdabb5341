package dev.refact.diffusion;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Native memory stays flat across denoising steps: the tiny pipeline on 32×32 latents (1024-token
 * attention, a few hundred temporaries per step) for 12 PNDM steps. A leaked step scope would add
 * several MB per step; the test allows 12 MB of drift in total from step 4 to the last.
 */
@Tag("slow") // ~50 s on a loaded 2-core machine (1024-token attention at every step)
final class MemoryTest {

    @Test
    void generate_manySteps_residentMemoryFlat() throws IOException {
        List<Double> rss = new ArrayList<>();
        try (Golden golden = new Golden();
             StableDiffusionPipeline sd = StableDiffusionPipeline.load(Golden.dir(), ScalarType.Float, Tensors.cpu(),
                     0);
             PointerScope scope = new PointerScope()) {
            Tensor cond = golden.slice("e2e.prompt_embeds", 2, 1);
            Tensor uncond = golden.slice("e2e.prompt_embeds", 0, 1);
            GenerationOptions o = new GenerationOptions(12, 7.5, SchedulerKind.PNDM, 3, 64, 64);
            try (Generation g = sd.generate(cond, uncond, o, null, (step, total, elapsed, eta) -> rss.add(rssMb()))) {
                assertTrue(g.latents().size(2) == 32);
            }
        }
        // RSS jitters by ±10 MB between samples (allocator, Java heap) and the last callback includes the
        // decode, so compare the mean of four early steps with the mean of the last four denoising steps:
        // a leaked step scope (several MB per step over 7+ steps) would still show.
        int n = rss.size() - 1; // drop the final callback
        double settled = mean(rss.subList(1, 5));
        double last = mean(rss.subList(n - 4, n));
        System.out.printf("RSS mean of steps 2-5: %.1f MB, of the last four steps: %.1f MB%n", settled, last);
        assertTrue(last - settled < 12, "RSS grew from " + settled + " MB to " + last + " MB: " + rss);
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
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
