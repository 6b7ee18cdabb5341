package dev.refact.clip.torch;

import dev.refact.clip.NativeRuntime.Blas;
import java.lang.reflect.Method;
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
 *   <li>The BLAS under libtorch's GEMMs: OpenBLAS (a dependency of the PyTorch preset), or Intel oneMKL when its
 *       JavaCPP preset ({@code org.bytedeco:mkl} with the {@code -redist} natives) is on the class path. libtorch
 *       links {@code libopenblas.so.0}; the OpenBLAS preset loads MKL in its place when the system property
 *       {@code org.bytedeco.openblas.load=mkl_rt} is set and MKL's own preset (with its OpenMP runtime) was loaded
 *       first, which is what {@link #ensureLoaded()} does. Chosen by {@link #useBlas(Blas)} or
 *       {@code -Drefact.blas=auto|openblas|mkl} (default auto: MKL when present on an x86-64 CPU).</li>
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
    /** The BLAS asked for ({@code null}: not asked, use {@code -Drefact.blas} or AUTO) and the one loaded. */
    private static Blas requestedBlas;
    private static Blas loadedBlas;
    private static final String MKL_CLASS = "org.bytedeco.mkl.global.mkl_rt";

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
            Blas blas = chooseBlas(requestedBlas(), mklAvailable(), platform);
            if (blas == Blas.MKL) {
                loadMkl();
            }
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
            loadedBlas = blas;
            if (threads == null) {
                threads = Integer.getInteger("refact.threads", defaultIntraOpThreads(blas,
                        Runtime.getRuntime().availableProcessors()));
                nnpack = false;
                LOG.log(System.Logger.Level.DEBUG, "no runtime configuration given: using the default (torch "
                        + "intra-op threads " + threads + ", NNPACK off, BLAS " + blas + ")");
            }
            apply();
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded PyTorch natives for " + platform + " (JavaCPP cache "
                    + cacheDir() + "): " + describe());
        }
    }

    /**
     * The torch intra-op thread count used when none is configured. With OpenBLAS: 1 — OpenBLAS keeps its own
     * pthread pool, and libtorch's OpenMP threads spinning between parallel regions starve it (2 + 2 threads on 2
     * cores: batch-1 forward 630 ms against 110 ms). With MKL: every core — MKL's OpenMP runtime and libtorch's take
     * turns without that contention, and the element-wise kernels between the GEMMs run in parallel too (batch-1
     * forward 71 ms against 77 ms with 1 thread; docs/benchmarks.md).
     *
     * @param blas  the BLAS in use (not AUTO)
     * @param cores available processors
     * @return intra-op threads
     */
    static int defaultIntraOpThreads(Blas blas, int cores) {
        return blas == Blas.MKL ? Math.max(1, cores) : 1;
    }

    /**
     * Resolves the BLAS to load.
     *
     * @param requested    what was asked for (AUTO, OPENBLAS or MKL)
     * @param mklAvailable whether MKL's preset class and natives are on the class path
     * @param platform     JavaCPP platform, e.g. {@code linux-x86_64}
     * @return OPENBLAS or MKL
     * @throws IllegalStateException if MKL is asked for and is not on the class path
     */
    static Blas chooseBlas(Blas requested, boolean mklAvailable, String platform) {
        return switch (requested) {
            case OPENBLAS -> Blas.OPENBLAS;
            case MKL -> {
                if (!mklAvailable) {
                    throw new IllegalStateException("BLAS MKL requested (-Drefact.blas=mkl or NativeRuntime.useBlas) "
                            + "but MKL is not on the class path: add org.bytedeco:mkl and org.bytedeco:mkl:"
                            + platform + "-redist (versions in refact-bom)");
                }
                yield Blas.MKL;
            }
            case AUTO -> mklAvailable && platform.endsWith("x86_64") ? Blas.MKL : Blas.OPENBLAS;
        };
    }

    /**
     * Parses {@code -Drefact.blas}.
     *
     * @param value the property's value, or null
     * @return the BLAS it names (null or blank: AUTO)
     * @throws IllegalArgumentException if it names none of auto, openblas, mkl
     */
    static Blas parseBlas(String value) {
        if (value == null || value.isBlank()) {
            return Blas.AUTO;
        }
        try {
            return Blas.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Drefact.blas=" + value + ": expected auto, openblas or mkl", e);
        }
    }

    private static Blas requestedBlas() {
        return requestedBlas != null ? requestedBlas : parseBlas(System.getProperty("refact.blas"));
    }

    /**
     * Whether MKL can be loaded: its preset class and its {@code -redist} natives (without them mkl_rt finds no
     * threading library and MKL ends the process, so their absence must be seen before loading).
     */
    private static boolean mklAvailable() {
        ClassLoader loader = TorchRuntime.class.getClassLoader();
        try {
            Class.forName(MKL_CLASS, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
        String dir = "org/bytedeco/mkl/" + Loader.getPlatform() + "/";
        for (String lib : new String[] {"libmkl_intel_thread.so.2", "mkl_intel_thread.2.dll",
                "libmkl_intel_thread.2.dylib"}) {
            if (loader.getResource(dir + lib) != null) {
                return true;
            }
        }
        LOG.log(System.Logger.Level.WARNING, MKL_CLASS + " is on the class path without MKL's natives (org.bytedeco:"
                + "mkl:" + Loader.getPlatform() + "-redist): using OpenBLAS");
        return false;
    }

    /**
     * Loads MKL's preset (mkl_rt and its OpenMP runtime) and tells the OpenBLAS preset to resolve libtorch's BLAS to
     * it. For reproducibility, MKL's conditional numerical reproducibility is set to AUTO|STRICT unless the
     * environment sets {@code MKL_CBWR}: the same inputs then give the same bits on this CPU regardless of the
     * arrays' alignment (no measurable cost here).
     */
    private static void loadMkl() {
        try {
            System.setProperty("org.bytedeco.openblas.load", "mkl_rt");
            Class<?> mkl = Class.forName(MKL_CLASS, true, TorchRuntime.class.getClassLoader());
            Loader.load(mkl);
            if (System.getenv("MKL_CBWR") == null) {
                int auto = mkl.getField("MKL_CBWR_AUTO").getInt(null);
                int strict = mkl.getField("MKL_CBWR_STRICT").getInt(null);
                Object status = mkl.getMethod("MKL_CBWR_Set", int.class).invoke(null, auto | strict);
                if (!Integer.valueOf(0).equals(status)) {
                    LOG.log(System.Logger.Level.WARNING, "MKL_CBWR_Set(AUTO|STRICT) returned " + status
                            + ": MKL results may differ run to run in the last bits");
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            System.clearProperty("org.bytedeco.openblas.load");
            throw new IllegalStateException("could not load Intel oneMKL (" + MKL_CLASS + "): are the "
                    + "org.bytedeco:mkl natives for " + Loader.getPlatform() + " (classifier -redist) on the class "
                    + "path? Or choose OpenBLAS with -Drefact.blas=openblas: " + e, e);
        }
    }

    /**
     * Chooses the BLAS for libtorch's GEMMs; only before the natives are loaded.
     *
     * @param blas AUTO, OPENBLAS or MKL
     * @throws IllegalStateException if the natives are already loaded with another BLAS
     */
    public static void useBlas(Blas blas) {
        java.util.Objects.requireNonNull(blas, "blas");
        synchronized (TorchRuntime.class) {
            if (loaded) {
                if (blas != Blas.AUTO && blas != loadedBlas) {
                    throw new IllegalStateException("the natives are already loaded with " + loadedBlas
                            + "; choose the BLAS before the first model or tensor is created");
                }
                return;
            }
            requestedBlas = blas;
        }
    }

    /**
     * Loads the natives if needed.
     *
     * @return the BLAS libtorch's GEMMs run on (OPENBLAS or MKL)
     */
    public static Blas blas() {
        ensureLoaded();
        return loadedBlas;
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
        if (loadedBlas == Blas.MKL) {
            if (n > 0) {
                mklCall("MKL_Set_Num_Threads", n); // else MKL's own default: MKL_NUM_THREADS or every core
            }
            return;
        }
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

    private static Object mklCall(String method, Object... args) {
        try {
            Class<?> mkl = Class.forName(MKL_CLASS, true, TorchRuntime.class.getClassLoader());
            Class<?>[] types = new Class<?>[args.length];
            java.util.Arrays.fill(types, int.class);
            Method m = mkl.getMethod(method, types);
            return m.invoke(null, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("MKL call " + method + " failed: " + e, e);
        }
    }

    private static String blasDescription() {
        if (loadedBlas == Blas.MKL) {
            return ", BLAS oneMKL threads " + mklCall("MKL_Get_Max_Threads");
        }
        try {
            return ", OpenBLAS threads " + org.bytedeco.openblas.global.openblas.blas_get_num_threads();
        } catch (RuntimeException | LinkageError e) {
            return "";
        }
    }

    /**
     * Short description of the native runtime, for logs and provenance.
     *
     * @return one line naming the libtorch and JavaCPP versions, platform, intra-op threads, CUDA availability and
     *         the BLAS in use, e.g. {@code libtorch 2.10.0 (JavaCPP 1.5.13, linux-x86_64, intra-op threads 8, cuda no)}
     */
    public static String describe() {
        ensureLoaded();
        return String.format(Locale.ROOT, "libtorch %s (JavaCPP %s, %s, intra-op threads %d, cuda %s)",
                "2.10.0", "1.5.13", Loader.getPlatform(), torch.get_num_threads(),
                torch.cuda_is_available() ? "yes" : "no") + blasDescription();
    }
}
