package dev.refact.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** EncoderBench's command line (the benchmark itself needs the full-size model and is not run here). */
final class EncoderBenchTest {
    @Test
    void reportAfter_loopsOneToFour_noDivisionByZeroAndReportsEveryEncode() {
        for (int loops = 1; loops <= 4; loops++) {
            for (int done = 1; done <= loops; done++) {
                assertTrue(EncoderBench.reportAfter(done, loops), loops + " loops, after " + done);
            }
        }
        assertTrue(EncoderBench.reportAfter(2000, 10_000));
        assertFalse(EncoderBench.reportAfter(1999, 10_000));
    }

    @Test
    void loops_zeroTextOrExtraArguments_refusedWithOneLineUsage() {
        assertEquals(10_000, EncoderBench.loops(new String[0]));
        assertEquals(3, EncoderBench.loops(new String[] {"3"}));
        for (String[] bad : new String[][] {{"0"}, {"-5"}, {"many"}, {"5", "6"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderBench.loops(bad));
            assertTrue(e.getMessage().endsWith(EncoderBench.USAGE) && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
