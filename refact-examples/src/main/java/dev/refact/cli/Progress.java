package dev.refact.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long commands on stderr.
 *
 * <ul>
 *   <li>On a terminal (the {@code refact} process's own stderr, {@link #interactive()}): a
 *       {@code me.tongfei:progressbar} bar with count, percentage, rate and ETA, redrawn in place.</li>
 *   <li>Otherwise (output redirected to a file or pipe, CI logs, in-process tests): plain lines
 *       {@code refact: <task> 3/10 (30%), 12.0 s elapsed, 0.25/s, ETA 28.0 s}, at most about once a second and at
 *       the end.</li>
 *   <li>{@code --quiet} ({@link #setQuiet}): nothing (errors and warnings still print).</li>
 * </ul>
 */
final class Progress implements AutoCloseable {
    private static volatile boolean quiet;
    private static volatile boolean interactive;

    private final PrintWriter err;
    private final String task;
    private final long total;
    private final String unit;
    private final long startNanos;
    private final ProgressBar bar;
    private long lastPrint;
    private long done;
    private boolean closed;

    private Progress(PrintWriter err, String task, long total, String unit, long startNanos) {
        this.err = err;
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.startNanos = startNanos;
        this.bar = quiet || !interactive ? null : new ProgressBarBuilder()
                .setTaskName("refact: " + task)
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(250)
                .setUnit(" " + unit, 1)
                .showSpeed() // rate in units per second; the ETA is the library's (remaining × elapsed / done)
                .setSpeedUnit(ChronoUnit.SECONDS)
                .startsFrom(0, Duration.ofNanos(System.nanoTime() - startNanos))
                .build();
    }

    /** {@code --quiet}: no progress output at all (set by the top-level option, reset per run). */
    static void setQuiet(boolean q) {
        quiet = q;
    }

    /** Whether progress is suppressed. */
    static boolean quiet() {
        return quiet;
    }

    /**
     * Whether bars are drawn: only when the JVM runs {@code refact} on a terminal (set by
     * {@link RefactCommand#main}); in-process runs with other streams get plain lines.
     */
    static boolean interactive() {
        return interactive;
    }

    static void setInteractive(boolean value) {
        interactive = value;
    }

    /**
     * Whether this process's stderr is a terminal: on Linux from {@code /proc/self/fd/2} (a {@code /dev/pts/*} or
     * {@code /dev/tty*} device), elsewhere from {@link System#console()} (JDK 22+: {@code Console.isTerminal()}).
     * {@code TERM=dumb} never gets bars.
     */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        java.nio.file.Path fd = java.nio.file.Path.of("/proc/self/fd/2");
        if (java.nio.file.Files.isSymbolicLink(fd)) {
            try {
                String target = java.nio.file.Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (java.io.IOException | SecurityException e) {
                return false;
            }
        }
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 17-21: System.console() is null unless stdin and stdout are terminals
        }
    }

    /**
     * Starts the progress of a task of {@code total} units (e.g. {@code "steps"}, {@code "cells"}); a negative total
     * means unknown (no percentage or ETA).
     */
    static Progress start(PrintWriter err, String task, long total, String unit) {
        return new Progress(err, task, total, unit, System.nanoTime());
    }

    /** As {@link #start(PrintWriter, String, long, String)}, for a task that began {@code elapsed} ago. */
    static Progress start(PrintWriter err, String task, long total, String unit, Duration elapsed) {
        return new Progress(err, task, total, unit, System.nanoTime() - elapsed.toNanos());
    }

    /** Reports {@code done} of {@code total} units finished; closes the display when all are done. */
    synchronized void stepTo(long done) {
        if (closed) {
            return;
        }
        this.done = done;
        if (bar != null) {
            bar.stepTo(done);
        } else if (!quiet) {
            long now = System.nanoTime();
            if (total >= 0 && done >= total || now - lastPrint >= 1_000_000_000L) {
                lastPrint = now;
                err.println(line(task, done, total, unit, (now - startNanos) / 1e9));
                err.flush();
            }
        }
        if (total >= 0 && done >= total) {
            close();
        }
    }

    private static String seconds(double s) {
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }

    /** A plain progress line: {@code refact: <task> 3/10 (30%), 12.0 s elapsed, 0.25 steps/s, ETA 28.0 s}. */
    static String line(String task, long done, long total, String unit, double elapsed) {
        double rate = elapsed > 0 ? done / elapsed : 0;
        if (total < 0) {
            return String.format(Locale.ROOT, "refact: %s %d, %s elapsed, %.2f %s/s", task, done, seconds(elapsed), rate,
                    unit);
        }
        String eta = done == 0 ? "?" : seconds(elapsed / done * Math.max(0, total - done));
        return String.format(Locale.ROOT, "refact: %s %d/%d (%.0f%%), %s elapsed, %.2f %s/s, ETA %s", task, done, total,
                total == 0 ? 100.0 : 100.0 * done / total, seconds(elapsed), rate, unit, eta);
    }

    /** Ends the display (a bar is completed on its line). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bar != null) {
            bar.close();
        }
    }
}
