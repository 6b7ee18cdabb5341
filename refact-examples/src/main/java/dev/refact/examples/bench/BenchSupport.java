package dev.refact.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** Small helpers for the benchmark mains: RSS from /proc, timing statistics, a machine description. */
public final class BenchSupport {
    private BenchSupport() {
    }

    /**
     * Current resident set size in MiB (Linux), or -1.
     *
     * @return {@code VmRSS} of {@code /proc/self/status} in MiB, or -1 where it cannot be read
     */
    public static double rssMiB() {
        return procStatus("VmRSS:");
    }

    /**
     * The 1-minute load average (from {@code /proc/loadavg}), to print beside a timing.
     *
     * @return the load, or NaN where it cannot be read
     */
    public static double loadAverage() {
        try {
            return Double.parseDouble(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
                    .split(" ")[0]);
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * Peak resident set size in MiB (Linux), or -1.
     *
     * @return {@code VmHWM} of {@code /proc/self/status} in MiB, or -1 where it cannot be read
     */
    public static double peakRssMiB() {
        return procStatus("VmHWM:");
    }

    private static double procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * "median X ms (min Y, max Z, n N)" of nanosecond samples.
     *
     * @param nanos the samples in nanoseconds, at least one (not modified)
     * @return the one-line summary, milliseconds with one decimal (for an even count the upper median)
     * @throws IllegalArgumentException "no samples" if {@code nanos} is empty
     */
    public static String summarize(long[] nanos) {
        long[] s = sorted(nanos);
        return String.format(Locale.ROOT, "median %.1f ms (min %.1f, max %.1f, n %d)", s[s.length / 2] / 1e6,
                s[0] / 1e6, s[s.length - 1] / 1e6, s.length);
    }

    /**
     * Median in milliseconds.
     *
     * @param nanos the samples in nanoseconds, at least one (not modified)
     * @return the median in ms (for an even count the upper of the two middle samples)
     * @throws IllegalArgumentException "no samples" if {@code nanos} is empty
     */
    public static double medianMs(long[] nanos) {
        long[] s = sorted(nanos);
        return s[s.length / 2] / 1e6;
    }

    private static long[] sorted(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s;
    }

    /**
     * An optional integer argument of a benchmark main.
     *
     * @param args  the main's arguments
     * @param i     the argument's position
     * @param name  its name in the usage line
     * @param def   the value when {@code args} has no position {@code i}
     * @param min   the smallest value accepted
     * @param usage the main's usage line, repeated in the message
     * @return the value, at least {@code min}
     * @throws IllegalArgumentException one line naming the argument, what it must be, the value given and the usage
     */
    static int intArg(String[] args, int i, String name, int def, int min, String usage) {
        if (i >= args.length) {
            return def;
        }
        try {
            int v = Integer.parseInt(args[i].trim());
            if (v >= min) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException(name + " must be an integer >= " + min + ", got '" + args[i] + "'; "
                + usage);
    }

    /**
     * Refuses a bad command line: prints the one-line message to stderr and exits with status 2.
     *
     * @param e the refusal, its message the one line to print
     */
    static void exitWithUsage(IllegalArgumentException e) {
        System.err.println(e.getMessage());
        System.exit(2);
    }

    /**
     * CPU model, cores and JVM, for the benchmark record.
     *
     * @return one line: CPU model name (from {@code /proc/cpuinfo}, else "unknown CPU"), available processors,
     *         Java version and {@code OPENBLAS_CORETYPE}
     */
    public static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // keep unknown
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + ", OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE");
    }

    /**
     * Token ids [batch, n] for timing: start token, random ids, end tokens from a random length on (seeded).
     *
     * @param batch rows
     * @param n     tokens per row
     * @param seed  random seed
     * @return row-major ids, batch × n
     */
    public static long[] ids(int batch, int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        long[] ids = new long[batch * n];
        for (int b = 0; b < batch; b++) {
            ids[b * n] = 49406;
            int len = 5 + r.nextInt(Math.max(1, n - 6));
            for (int i = 1; i < n; i++) {
                ids[b * n + i] = i < len ? r.nextInt(49406) : 49407;
            }
        }
        return ids;
    }
}
