package dev.refact.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Timing statistics of the benchmark mains and their argument parsing helper. */
final class BenchSupportTest {
    @Test
    void summarize_emptySamples_throwsNoSamples() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchSupport.summarize(new long[0]));
        assertEquals("no samples", e.getMessage());
    }

    @Test
    void medianMs_emptySamples_throwsNoSamples() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchSupport.medianMs(new long[0]));
        assertEquals("no samples", e.getMessage());
    }

    @Test
    void summarize_threeSamples_medianMinMaxUnchangedInput() {
        long[] nanos = {3_000_000, 1_000_000, 2_000_000};
        assertEquals("median 2.0 ms (min 1.0, max 3.0, n 3)", BenchSupport.summarize(nanos));
        assertEquals(2.0, BenchSupport.medianMs(nanos), 0.0);
        assertEquals(3_000_000, nanos[0], "the samples are not sorted in place");
    }

    @Test
    void intArg_textOrTooSmall_throwsOneLineNamingArgumentValueAndUsage() {
        String[] args = {"x", "-3", " 7 "};
        assertEquals(5, BenchSupport.intArg(args, 3, "n", 5, 1, "usage: B"));
        assertEquals(7, BenchSupport.intArg(args, 2, "n", 5, 1, "usage: B"));
        assertEquals("n must be an integer >= 1, got 'x'; usage: B", assertThrows(IllegalArgumentException.class,
                () -> BenchSupport.intArg(args, 0, "n", 5, 1, "usage: B")).getMessage());
        assertEquals("n must be an integer >= 1, got '-3'; usage: B", assertThrows(IllegalArgumentException.class,
                () -> BenchSupport.intArg(args, 1, "n", 5, 1, "usage: B")).getMessage());
    }
}
