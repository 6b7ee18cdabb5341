package dev.refact.clip.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

final class TorchRuntimeTest {
    @Test
    void ensureLoaded_thenMatmul_computesKnownProduct() {
        TorchRuntime.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor a = torch.from_blob(new FloatPointer(1f, 2f, 3f, 4f), 2, 2).clone();
            Tensor b = torch.from_blob(new FloatPointer(5f, 6f, 7f, 8f), 2, 2).clone();
            Tensor c = a.matmul(b).contiguous();
            float[] out = new float[4];
            c.data_ptr_float().get(out);
            assertArrayEquals(new float[] {19f, 22f, 43f, 50f}, out);
        }
        assertTrue(TorchRuntime.describe().contains("libtorch"));
    }
}
