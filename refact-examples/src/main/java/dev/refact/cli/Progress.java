package dev.refact.cli;

import java.util.Locale;

/** Progress lines on stderr, at most about once a second, with an ETA. */
final class Progress {
    private static long lastPrint;

    private Progress() {
    }

    static synchronized void report(String what, long done, long total, long startNanos) {
        long now = System.nanoTime();
        if (done < total && now - lastPrint < 1_000_000_000L) {
            return;
        }
        lastPrint = now;
        double elapsed = (now - startNanos) / 1e9;
        double eta = done == 0 ? Double.NaN : elapsed / done * (total - done);
        System.err.printf(Locale.ROOT, "refact: %s %d/%d (%.0f%%), %.1f s elapsed, ETA %.1f s%n", what, done, total,
                100.0 * done / total, elapsed, eta);
    }
}
