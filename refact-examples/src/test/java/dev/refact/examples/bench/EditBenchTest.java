package dev.refact.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** EditBench's command line (the benchmark itself needs the full-size model and is not run here). */
final class EditBenchTest {
    @Test
    void parse_stepsBelowTwoOrMissingFolder_refusedWithOneLineUsage() {
        assertEquals(new EditBench.Args(Path.of("tok"), 100, 0), EditBench.parse(new String[] {"tok"}));
        assertEquals(new EditBench.Args(Path.of("tok"), 2, 3), EditBench.parse(new String[] {"tok", "2", "3"}));
        for (String[] bad : new String[][] {{}, {"tok", "1"}, {"tok", "0"}, {"tok", "-4"}, {"tok", "ten"},
            {"tok", "5", "-1"}, {"tok", "5", "1", "extra"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EditBench.parse(bad));
            assertTrue(e.getMessage().endsWith(EditBench.USAGE) && !e.getMessage().contains("\n"), e.getMessage());
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EditBench.parse(new String[] {"tok", "1"}))
                .getMessage().startsWith("steps must be an integer >= 2, got '1'"));
    }
}
