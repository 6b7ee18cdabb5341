package dev.refact.cli;

import java.util.Locale;

/** Progress lines on stderr, at most about once a second, with an ETA. */
final class Progress {
    private static long lastPrint;

    private Progress() {
    }

    /** Progress to the process's current {@code System.err}. */
    static void report(String what, long done, long total, long startNanos) {
        report(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err,
                java.nio.charset.StandardCharsets.UTF_8), true), what, done, total, startNanos);
    }

    static synchronized void report(java.io.PrintWriter err, String what, long done, long total, long startNanos) {
        long now = System.nanoTime();
        if (done < total && now - lastPrint < 1_000_000_000L) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - startNanos) / 1e9;
        double eta = done == 0 ? Double.NaN : elapsed / done * (total - done);
        err.printf(Locale.ROOT, "refact: %s %d/%d (%.0f%%), %.1f s elapsed, ETA %.1f s%n", what, done, total,
                100.0 * done / total, elapsed, eta);
        err.flush();
    }
}
