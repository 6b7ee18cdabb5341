package dev.refact.clip;

import dev.refact.clip.torch.TorchRuntime;

/**
 * The process-wide native (libtorch) configuration: the one explicit call that changes global state.
 *
 * <p>Loading a class of refact-java changes nothing. The natives are loaded on first use (the first model,
 * tokenizer-independent tensor or statistics), and then the configuration applies: the one given here, or the
 * default — {@code -Drefact.threads=N}, else 1 torch intra-op thread with OpenBLAS (OpenBLAS keeps its own pool;
 * torch 2 + OpenBLAS 2 oversubscribe a 2-core machine) or every core with MKL, NNPACK off. Diagnostics (natives
 * loaded, threads, BLAS) go to the {@code System.Logger} {@code dev.refact.clip.torch.TorchRuntime}.
 *
 * <p><b>BLAS.</b> libtorch's matrix products run on OpenBLAS (always present) or on Intel oneMKL when the
 * application adds it ({@code org.bytedeco:mkl} and {@code org.bytedeco:mkl:linux-x86_64-redist}, versions in
 * refact-bom; ~180 MB of natives, so it is not a default dependency). With MKL present the default ({@link Blas#AUTO})
 * uses it on x86-64: the encoder's forward is 1.25–1.45× faster (an edit 1.6×) on an AVX-512 Xeon (docs/benchmarks.md). Results
 * agree within float32 rounding (the goldens hold on both) and are reproducible run to run on one machine. The choice
 * is process-wide: it sets {@code org.bytedeco.openblas.load=mkl_rt}, so other JavaCPP presets in the same JVM that
 * use OpenBLAS get MKL too.
 *
 * <pre>{@code
 * NativeRuntime.configure(4);                      // before loading the first model, on a bigger machine
 * NativeRuntime.useBlas(NativeRuntime.Blas.MKL);   // or -Drefact.blas=mkl; fails at load if MKL is absent
 * System.out.println(NativeRuntime.describe());    // libtorch 2.10.0 (JavaCPP 1.5.13, linux-x86_64, ...)
 * }</pre>
 */
public final class NativeRuntime {
    private NativeRuntime() {
    }

    /** The BLAS under libtorch's CPU matrix products. */
    public enum Blas {
        /** MKL when its preset is on the class path and the CPU is x86-64, else OpenBLAS (the default). */
        AUTO,
        /** OpenBLAS, the PyTorch preset's own BLAS. */
        OPENBLAS,
        /** Intel oneMKL ({@code org.bytedeco:mkl} with its {@code -redist} natives must be on the class path). */
        MKL
    }

    /**
     * Chooses the BLAS; takes effect when the natives load (first model or tensor), so call it before. The system
     * property {@code -Drefact.blas=auto|openblas|mkl} does the same without code.
     *
     * @param blas AUTO, OPENBLAS or MKL
     * @throws IllegalStateException if the natives are already loaded with another BLAS (checked here), or, at load,
     *                               if MKL was asked for and is not on the class path
     */
    public static void useBlas(Blas blas) {
        TorchRuntime.useBlas(blas);
    }

    /**
     * Loads the natives if needed.
     *
     * @return the BLAS in use: {@link Blas#OPENBLAS} or {@link Blas#MKL}
     */
    public static Blas blas() {
        return TorchRuntime.blas();
    }

    /**
     * Sets torch's intra-op thread count (NNPACK stays off). See {@link #configure(int, boolean)}.
     *
     * @param intraOpThreads threads (&gt; 0), or 0 for libtorch's own choice
     * @throws IllegalArgumentException if negative
     */
    public static void configure(int intraOpThreads) {
        TorchRuntime.configure(intraOpThreads, false);
    }

    /**
     * Sets the native configuration; best called before the first model is loaded (a later call applies at once).
     *
     * @param intraOpThreads torch intra-op threads (&gt; 0), or 0 for libtorch's own choice
     * @param enableNnpack   let libtorch use NNPACK for convolutions (off by default)
     * @throws IllegalArgumentException if {@code intraOpThreads} is negative
     */
    public static void configure(int intraOpThreads, boolean enableNnpack) {
        TorchRuntime.configure(intraOpThreads, enableNnpack);
    }

    /**
     * Loads the natives if needed and describes them.
     *
     * @return libtorch version, platform, threads, CUDA availability, BLAS and its threads
     */
    public static String describe() {
        return TorchRuntime.describe();
    }
}
