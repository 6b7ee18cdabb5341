package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Offsets beyond 2 GB and tensors that span several mapping chunks. */
final class SafetensorsLargeFileTest {
    private static final long TWO_GB = 1L << 31;

    @TempDir
    Path dir;

    @Test
    void readFloats_sparseThreeGigabyteFile_readsTensorsAcrossAndBeyondTheTwoGigabyteMark() throws IOException {
        long pad1 = TWO_GB - 8;          // "mid" straddles byte 2^31 of the data section
        long midEnd = pad1 + 16;
        long tailBegin = 3L << 30;       // 3 GiB
        long tailEnd = tailBegin + 16;
        String json = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad1 + "],\"data_offsets\":[0," + pad1 + "]},"
                + "\"mid\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + pad1 + "," + midEnd + "]},"
                + "\"gap\":{\"dtype\":\"U8\",\"shape\":[" + (tailBegin - midEnd) + "],\"data_offsets\":[" + midEnd + ","
                + tailBegin + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + tailBegin + "," + tailEnd + "]}}";
        byte[] head = TestFiles.safetensors(json, new byte[0]);
        Path p = dir.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(head);
            f.setLength(head.length + tailEnd); // sparse: no blocks allocated for the zeros
            f.seek(head.length + pad1);
            f.write(TestFiles.floatsLE(1.5f, -2.5f, 3.5f, -4.5f));
            f.seek(head.length + tailBegin);
            f.write(TestFiles.floatsLE(10, 20, 30, 40));
        }
        try (SafetensorsFile f = SafetensorsFile.open(p); Device cpu = Tensors.cpu()) {
            assertEquals(tailBegin, f.info("tail").begin());
            assertArrayEquals(new float[] {1.5f, -2.5f, 3.5f, -4.5f}, f.readFloats("mid"));
            assertArrayEquals(new float[] {10, 20, 30, 40}, f.readFloats("tail"));
            try (Tensor t = f.toTensor("tail", cpu)) {
                assertArrayEquals(new long[] {2, 2}, Tensors.shape(t));
                assertArrayEquals(new float[] {10, 20, 30, 40}, Tensors.toFloats(t));
            }
        }
    }

    @Test
    void readAndToTensor_tensorSpanningManySmallChunks_equalsSingleChunkRead() throws IOException {
        int n = 10_007; // not a multiple of the chunk
        float[] v = new float[n];
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            v[i] = i * 0.25f - 100;
            l[i] = (long) i * i - 5_000_000L;
        }
        Path p = dir.resolve("chunks.safetensors");
        new SafetensorsWriter().addFloats("v", v, n).addLongs("l", l, n).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p, 4096); Device cpu = Tensors.cpu()) {
            assertArrayEquals(v, f.readFloats("v"));
            assertArrayEquals(l, f.readLongs("l"));
            try (Tensor t = f.toTensor("v", cpu); Tensor u = f.toTensor("l", cpu)) {
                assertArrayEquals(v, Tensors.toFloats(t));
                assertArrayEquals(l, Tensors.toLongs(u));
            }
        }
    }
}
