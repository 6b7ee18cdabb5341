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
 * <p>Every class in refact-java that touches a tensor calls {@link #ensureLoaded()} first; it is
 * cheap after the first call.
 */
public final class TorchRuntime {
    private static final String[] LIBS_IN_ORDER = {"libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so"};
    private static volatile boolean loaded;

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
            // NNPACK fails on CPUs it does not recognise (these VMs) and then logs "Could not initialize NNPACK"
            // on every few convolutions; the oneDNN/im2col paths that take over are what libtorch prefers anyway.
            torch.globalContext().setUserEnabledNNPACK(false);
            int threads = Integer.getInteger("refact.threads", 1);
            if (threads > 0) {
                torch.set_num_threads(threads);
            }
            loaded = true;
        }
    }

    /** Short description of the native runtime, for logs and provenance. */
    public static String describe() {
        ensureLoaded();
        return String.format(Locale.ROOT, "libtorch %s (JavaCPP %s, %s, intra-op threads %d, cuda %s)",
                "2.10.0", "1.5.13", Loader.getPlatform(), torch.get_num_threads(),
                torch.cuda_is_available() ? "yes" : "no");
    }
}
