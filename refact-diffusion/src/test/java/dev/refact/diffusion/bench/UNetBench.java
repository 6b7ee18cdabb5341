package dev.refact.diffusion.bench;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import dev.refact.diffusion.AutoencoderKL;
import dev.refact.diffusion.UNet2DConditionModel;
import dev.refact.diffusion.UNetConfig;
import dev.refact.diffusion.VaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Full-size Stable Diffusion 1.x timings with seeded random weights (no checkpoint needed):
 * the UNet (SD 1.4 config, 860 M parameters, float32) on 64×64 latents at batch 2 (one prompt with
 * classifier-free guidance, i.e. one 512×512 denoising step) and the VAE decoder on one 64×64 latent.
 * Reports per-step times, peak RSS (VmHWM) and RSS after each step (flat = no leak).
 *
 * <p>Run: {@code java -cp <test classpath> dev.refact.diffusion.bench.UNetBench [steps=4] [attentionChunk=1024]}.
 */
public final class UNetBench {
    private UNetBench() {
    }

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int chunk = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        TorchRuntime.ensureLoaded();
        System.out.println(TorchRuntime.describe());
        System.out.printf(Locale.ROOT, "start: RSS %.2f GB%n", gb("VmRSS"));
        Device cpu = Tensors.cpu();
        long t0 = System.nanoTime();
        try (UNet2DConditionModel unet = UNet2DConditionModel.random(UNetConfig.stableDiffusion1(), 1, ScalarType.Float,
                cpu, chunk)) {
            System.out.printf(Locale.ROOT, "UNet built (random weights, %.1f M parameters) in %.1f s, RSS %.2f GB%n",
                    unet.parameterCount() / 1e6, (System.nanoTime() - t0) / 1e9, gb("VmRSS"));
            double[] times = new double[steps];
            double[] rss = new double[steps];
            try (PointerScope outer = new PointerScope()) {
                Generator g = torch.make_generator_cpu(7);
                Tensor x = torch.randn(new long[] {2, 4, 64, 64}, new GeneratorOptional(g),
                        Tensors.options(ScalarType.Float, cpu));
                Tensor ctx = torch.randn(new long[] {2, 77, 768}, new GeneratorOptional(g),
                        Tensors.options(ScalarType.Float, cpu));
                for (int i = 0; i < steps; i++) {
                    long s = System.nanoTime();
                    try (PointerScope scope = new PointerScope()) {
                        Tensor out = unet.forward(x, new double[] {981 - 20 * i}, ctx);
                        out.sum().item_float(); // forces completion
                    }
                    times[i] = (System.nanoTime() - s) / 1e9;
                    rss[i] = gb("VmRSS");
                    System.out.printf(Locale.ROOT, "UNet step %d: %.2f s, RSS %.2f GB, peak %.2f GB%n", i + 1,
                            times[i], rss[i], gb("VmHWM"));
                }
            }
            double[] warm = Arrays.copyOfRange(times, Math.min(1, steps - 1), steps);
            System.out.printf(Locale.ROOT, "RESULT unet_step_s mean %.2f min %.2f (first %.2f), peak_rss_gb %.2f%n",
                    Arrays.stream(warm).average().orElse(0), Arrays.stream(warm).min().orElse(0), times[0],
                    gb("VmHWM"));
        }
        System.out.printf(Locale.ROOT, "after UNet closed: RSS %.2f GB%n", gb("VmRSS"));
        try (AutoencoderKL vae = AutoencoderKL.random(VaeConfig.stableDiffusion1(), 2, ScalarType.Float, cpu, chunk);
             PointerScope outer = new PointerScope()) {
            Generator g = torch.make_generator_cpu(8);
            Tensor z = torch.randn(new long[] {1, 4, 64, 64}, new GeneratorOptional(g),
                    Tensors.options(ScalarType.Float, cpu));
            for (int i = 0; i < 2; i++) {
                long s = System.nanoTime();
                try (PointerScope scope = new PointerScope()) {
                    Tensor img = vae.decodeLatents(z);
                    img.sum().item_float();
                }
                System.out.printf(Locale.ROOT, "RESULT vae_decode_512_s %.2f (run %d), peak_rss_gb %.2f%n",
                        (System.nanoTime() - s) / 1e9, i + 1, gb("VmHWM"));
            }
        }
    }

    /** A /proc/self/status field (kB) in GB. */
    static double gb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0;
            }
        }
        return Double.NaN;
    }
}
