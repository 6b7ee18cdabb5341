package dev.refact.clip;

import static dev.refact.clip.testing.TensorAssertions.assertAllClose;

import dev.refact.clip.testing.SharedData;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The encoder on CUDA equals the CPU result (skipped without a CUDA device; run with -Pgpu). */
@Tag("gpu")
final class ClipTextModelCudaTest {
    @Test
    void encode_onCuda_matchesCpu() throws IOException {
        SharedData.assumeCuda();
        Path dir = SharedData.resolve("models/tiny-random-clip-text");
        try (Device cuda = Tensors.device("cuda"); ClipTextModel gpu = ClipTextModel.load(dir, cuda, torch.ScalarType.Float);
             ClipTextModel cpu = ClipTextModel.load(dir); PointerScope scope = new PointerScope()) {
            long[] ids = {49406, 320, 1125, 539, 320, 2368, 49407};
            Tensor a = Tensors.longs(ids, gpu.device(), 1, 7);
            Tensor b = Tensors.longs(ids, cpu.device(), 1, 7);
            try (TextEncoding g = gpu.encode(a); TextEncoding c = cpu.encode(b)) {
                assertAllClose(Tensors.toFloats(c.lastHiddenState()), g.lastHiddenState(), 1e-4, 1e-4, "cuda vs cpu");
            }
        }
    }
}
