package dev.refact.clip.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.refact.clip.NativeRuntime;
import dev.refact.clip.NativeRuntime.Blas;

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

    @Test
    void ensureLoaded_largeProduct_matchesDoubleReference() {
        // a GEMM big enough to go through the BLAS's blocked, threaded kernels (OpenBLAS or MKL): float32 result
        // against a float64 reference, relative 1e-5
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(7);
            Tensor a = torch.randn(77, 768);
            Tensor b = torch.randn(768, 3072);
            Tensor c = a.matmul(b);
            Tensor ref = a.to(torch.ScalarType.Double).matmul(b.to(torch.ScalarType.Double));
            double err = c.to(torch.ScalarType.Double).sub(ref).abs().max().item_double();
            double scale = ref.abs().max().item_double();
            assertTrue(err <= 1e-5 * scale, "max error " + err + " of " + scale);
        }
    }

    @Test
    void blas_isTheOneTheBuildAskedFor() {
        // the build passes -Drefact.blas: "auto" by default (no MKL on the test class path: OpenBLAS), "mkl" under
        // -Pmkl, where a silent fall-back to OpenBLAS would fail here
        Blas expected = "mkl".equals(System.getProperty("refact.blas")) ? Blas.MKL : Blas.OPENBLAS;
        assertEquals(expected, NativeRuntime.blas());
        assertTrue(NativeRuntime.describe().contains(expected == Blas.MKL ? "oneMKL" : "OpenBLAS"),
                NativeRuntime.describe());
    }

    @Test
    void useBlas_afterLoad_refusesAnotherBlas_acceptsTheSame() {
        Blas loaded = NativeRuntime.blas();
        Blas other = loaded == Blas.MKL ? Blas.OPENBLAS : Blas.MKL;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> NativeRuntime.useBlas(other));
        assertTrue(e.getMessage().contains("already loaded with " + loaded), e.getMessage());
        NativeRuntime.useBlas(loaded);
        NativeRuntime.useBlas(Blas.AUTO);
    }

    @Test
    void chooseBlas_resolvesAutoAndRefusesMissingMkl() {
        assertEquals(Blas.MKL, TorchRuntime.chooseBlas(Blas.AUTO, true, "linux-x86_64"));
        assertEquals(Blas.OPENBLAS, TorchRuntime.chooseBlas(Blas.AUTO, false, "linux-x86_64"));
        assertEquals(Blas.OPENBLAS, TorchRuntime.chooseBlas(Blas.AUTO, true, "linux-arm64"));
        assertEquals(Blas.OPENBLAS, TorchRuntime.chooseBlas(Blas.OPENBLAS, true, "linux-x86_64"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TorchRuntime.chooseBlas(Blas.MKL, false, "linux-x86_64"));
        assertTrue(e.getMessage().contains("org.bytedeco:mkl:linux-x86_64-redist"), e.getMessage());
    }

    @Test
    void parseBlas_acceptsNamesInAnyCase_rejectsOthersByName() {
        assertEquals(Blas.AUTO, TorchRuntime.parseBlas(null));
        assertEquals(Blas.AUTO, TorchRuntime.parseBlas(" "));
        assertEquals(Blas.MKL, TorchRuntime.parseBlas("MKL"));
        assertEquals(Blas.OPENBLAS, TorchRuntime.parseBlas(" openblas "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchRuntime.parseBlas("cublas"));
        assertEquals("-Drefact.blas=cublas: expected auto, openblas or mkl", e.getMessage());
    }

    @Test
    void defaultIntraOpThreads_oneWithOpenBlas_everyCoreWithMkl() {
        assertEquals(1, TorchRuntime.defaultIntraOpThreads(Blas.OPENBLAS, 8));
        assertEquals(8, TorchRuntime.defaultIntraOpThreads(Blas.MKL, 8));
        assertEquals(1, TorchRuntime.defaultIntraOpThreads(Blas.MKL, 0));
    }
}
