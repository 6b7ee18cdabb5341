package dev.refact.clip.torch;

import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Loads the JavaCPP PyTorch natives once per JVM, safely, and sets the thread policy.
 *
 * <p>Two traps are handled here (see {@code docs/javacpp.md}):
 * <ul>
 *   <li>Cold-cache crash: when a system {@code libtorch} exists, JavaCPP would load its small
 *       {@code libtorch.so} stub before extracting {@code libtorch_cpu.so}, and the dynamic linker
 *       would then pick the system copy and crash. We extract every library first, then load.</li>
 *   <li>Thread oversubscription: torch intra-op threads and OpenBLAS threads multiply. The default
 *       policy is one torch intra-op thread and OpenBLAS with its own pool (all cores), which was
 *       fastest on 2-core machines. Override with the system property {@code refact.threads}
 *       (torch intra-op threads) when running on a bigger machine.</li>
 *   <li>NNPACK is switched off process-wide (it cannot initialise on some CPUs and then logs on every
 *       convolution).</li>
 * </ul>
 *
 * <p>Nothing happens on class load. The natives are loaded, and the configuration applied, on the first
 * {@link #ensureLoaded()} (every class in refact-java that touches a tensor calls it first; it is cheap after
 * the first call). The configuration is {@link #configure(int, boolean)} if the application called it (the public
 * entry is {@code dev.refact.clip.NativeRuntime}), else the default above. Loading and configuration are logged
 * through {@code System.Logger} {@code dev.refact.clip.torch.TorchRuntime} (level DEBUG).
 */
public final class TorchRuntime {
    private static final String[] LIBS_IN_ORDER = {"libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so"};
    private static volatile boolean loaded;
    private static final System.Logger LOG = System.getLogger(TorchRuntime.class.getName());
    /** Intra-op threads to set: &gt; 0 a count, 0 leave libtorch's choice; null = not configured yet (default). */
    private static Integer threads;
    private static boolean nnpack;

    private TorchRuntime() {
    }

    /**
     * Extracts and loads the natives (once), then applies the thread policy.
     *
     * @throws IllegalStateException if the natives for this platform are not on the class path
     */
    public static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (TorchRuntime.class) {
            if (loaded) {
                return;
            }
            String platform = Loader.getPlatform();
            try {
                if (platform.startsWith("linux")) {
                    for (String lib : LIBS_IN_ORDER) {
                        String resource = "/org/bytedeco/pytorch/" + platform + "/" + lib;
                        // the class loader (not Class.getResource) also sees the natives' open module on the
                        // module path
                        if (TorchRuntime.class.getClassLoader().getResource(resource.substring(1)) != null) {
                            Loader.cacheResource(resource);
                        }
                    }
                }
                Loader.load(torch.class);
            } catch (Exception | UnsatisfiedLinkError e) {
                throw new IllegalStateException("could not load the PyTorch natives for platform '" + platform
                        + "': is org.bytedeco:pytorch:" + platform + " on the class path? Build with "
                        + "-Djavacpp.platform=" + platform + " (see README, 'Other platforms')", e);
            }
            loaded = true;
            if (threads == null) {
                threads = Integer.getInteger("refact.threads", 1);
                nnpack = false;
                LOG.log(System.Logger.Level.DEBUG, "no runtime configuration given: using the default (torch "
                        + "intra-op threads " + threads + ", NNPACK off)");
            }
            apply();
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded PyTorch natives for " + platform + " (JavaCPP cache "
                    + cacheDir() + "): " + describe());
        }
    }

    /**
     * Sets the process-wide native configuration. Call it before the first model is loaded (later calls also apply
     * at once, but forward passes already running keep their threads). Without a call the default applies on
     * first use: {@code -Drefact.threads} or 1 intra-op thread, NNPACK off.
     *
     * @param intraOpThreads torch intra-op threads (&gt; 0), or 0 to leave libtorch's own choice
     * @param enableNnpack   whether libtorch may use NNPACK for convolutions (off by default: it fails to
     *                       initialise on some CPUs and then logs on every convolution)
     * @throws IllegalArgumentException if {@code intraOpThreads < 0}
     */
    public static void configure(int intraOpThreads, boolean enableNnpack) {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intra-op threads must be >= 0 (0 = libtorch's choice), got "
                    + intraOpThreads);
        }
        synchronized (TorchRuntime.class) {
            threads = intraOpThreads;
            nnpack = enableNnpack;
            if (loaded) {
                apply();
            }
        }
    }

    private static void apply() {
        // NNPACK fails on CPUs it does not recognise (these VMs) and then logs "Could not initialize NNPACK"
        // on every few convolutions; the oneDNN/im2col paths that take over are what libtorch prefers anyway.
        torch.globalContext().setUserEnabledNNPACK(nnpack);
        if (threads > 0) {
            torch.set_num_threads(threads);
        }
        setBlasThreads();
        LOG.log(System.Logger.Level.DEBUG, () -> "runtime configuration: intra-op threads "
                + (threads > 0 ? threads : "libtorch default (" + torch.get_num_threads() + ")") + ", NNPACK "
                + (nnpack ? "on" : "off"));
    }

    private static String cacheDir() {
        try {
            return Loader.getCacheDir().toString();
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** {@return whether the natives have been loaded in this JVM} */
    public static boolean isLoaded() {
        return loaded;
    }

    /**
     * Sets OpenBLAS's thread pool explicitly: {@code refact.blasThreads}, else {@code OPENBLAS_NUM_THREADS}, else
     * every core. Left at the library's own default, the pool was 2–8× slower on a loaded 2-core machine (batch 1:
     * 4.1 s against 0.49 s with the same 2 threads set explicitly, see docs/benchmarks.md); set explicitly it is as
     * fast as before on an idle one.
     */
    private static void setBlasThreads() {
        int n = Integer.getInteger("refact.blasThreads", -1);
        if (n <= 0) {
            try {
                n = Integer.parseInt(System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "").trim());
            } catch (NumberFormatException e) {
                n = Runtime.getRuntime().availableProcessors();
            }
        }
        try {
            org.bytedeco.openblas.global.openblas.blas_set_num_threads(Math.max(1, n));
        } catch (RuntimeException | LinkageError e) {
            // no OpenBLAS preset on the class path (another BLAS): keep the library's default
        }
    }

    private static String blasDescription() {
        try {
            return ", OpenBLAS threads " + org.bytedeco.openblas.global.openblas.blas_get_num_threads();
        } catch (RuntimeException | LinkageError e) {
            return "";
        }
    }

    /** Short description of the native runtime, for logs and provenance. */
    public static String describe() {
        ensureLoaded();
        return String.format(Locale.ROOT, "libtorch %s (JavaCPP %s, %s, intra-op threads %d, cuda %s)",
                "2.10.0", "1.5.13", Loader.getPlatform(), torch.get_num_threads(),
                torch.cuda_is_available() ? "yes" : "no") + blasDescription();
    }
}
