package dev.refact.clip.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.Device;
import org.junit.jupiter.api.Test;

/** Device strings: what is checked without a GPU. */
final class TensorsTest {
    @Test
    void device_cudaIndexBeyondTheDeviceIndexRange_refusedWithOneLine() {
        for (String spec : new String[] {"cuda:128", "cuda:99999999999999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensors.device(spec));
            assertEquals("device '" + spec + "': CUDA device index out of range (at most 127)", e.getMessage());
        }
    }

    @Test
    void device_cpuAndUnknown_parsedOrRefused() {
        try (Device cpu = Tensors.device(" CPU ")) {
            assertTrue(cpu.is_cpu());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensors.device("cuda:-1"));
        assertTrue(e.getMessage().startsWith("unknown device 'cuda:-1'"), e.getMessage());
    }
}
