package dev.refact.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The explicit process-wide configuration. */
final class NativeRuntimeTest {
    @Test
    void configure_appliesAtOnce_andDescribeReportsIt() {
        NativeRuntime.describe(); // loads the natives the safe way first
        int before = torch.get_num_threads();
        try {
            NativeRuntime.configure(2);
            assertEquals(2, torch.get_num_threads());
            assertTrue(NativeRuntime.describe().contains("intra-op threads 2"), NativeRuntime.describe());
        } finally {
            NativeRuntime.configure(before);
        }
        assertEquals(before, torch.get_num_threads());
    }

    @Test
    void configure_negativeThreads_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeRuntime.configure(-1));
        assertTrue(e.getMessage().contains("intra-op threads must be >= 0"), e.getMessage());
    }
}
