package dev.refact.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** JointEditBench's command line (the benchmark itself needs the full-size model and is not run here). */
final class JointEditBenchTest {
    @Test
    void parse_zeroStepsOrRequestsOrMissingFolder_refusedWithOneLineUsage() {
        assertEquals(new JointEditBench.Args(Path.of("tok"), 10, List.of(1, 8, 32, 128), 64),
                JointEditBench.parse(new String[] {"tok"}, null));
        assertEquals(new JointEditBench.Args(Path.of("tok"), 3, List.of(2, 4), 5),
                JointEditBench.parse(new String[] {"tok", "3", "2", "4"}, "5"));
        String[][] bad = {{}, {"tok", "0"}, {"tok", "x"}, {"tok", "3", "0"}, {"tok", "3", "2", "-1"}};
        for (String[] args : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> JointEditBench.parse(args, null));
            assertTrue(e.getMessage().endsWith(JointEditBench.USAGE) && !e.getMessage().contains("\n"),
                    e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JointEditBench.parse(new String[] {"tok"}, "0"));
        assertTrue(e.getMessage().startsWith("bench.statsBatches must be an integer >= 1, got '0'"), e.getMessage());
    }
}
