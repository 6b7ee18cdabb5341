package dev.refact.clip;

import dev.refact.clip.torch.TorchRuntime;

/**
 * The process-wide native (libtorch) configuration: the one explicit call that changes global state.
 *
 * <p>Loading a class of refact-java changes nothing. The natives are loaded on first use (the first model,
 * tokenizer-independent tensor or statistics), and then the configuration applies: the one given here, or the
 * default — {@code -Drefact.threads=N} or 1 torch intra-op thread (OpenBLAS keeps its own pool; torch 2 +
 * OpenBLAS 2 oversubscribe a 2-core machine), NNPACK off. Diagnostics (natives loaded, threads) go to the
 * {@code System.Logger} {@code dev.refact.clip.torch.TorchRuntime}.
 *
 * <pre>{@code
 * NativeRuntime.configure(4);                      // before loading the first model, on a bigger machine
 * System.out.println(NativeRuntime.describe());    // libtorch 2.10.0 (JavaCPP 1.5.13, linux-x86_64, ...)
 * }</pre>
 */
public final class NativeRuntime {
    private NativeRuntime() {
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
     * @return libtorch version, platform, threads, CUDA availability
     */
    public static String describe() {
        return TorchRuntime.describe();
    }
}
