package dev.refact.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes ROME-layout statistics ({@code mom2.mom2} float32 sums, {@code mom2.count} int64) as an NPZ, by hand. */
final class NpzFiles {
    private NpzFiles() {
    }

    static Path rome(Path file, float[] sums, int d, long count) throws IOException {
        ByteBuffer data = ByteBuffer.allocate(sums.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : sums) {
            data.putFloat(f);
        }
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            zip.putNextEntry(new ZipEntry("mom2.mom2.npy"));
            zip.write(npy("<f4", "(" + d + ", " + d + ")", data.array()));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("mom2.count.npy"));
            zip.write(npy("<i8", "()", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(count).array()));
            zip.closeEntry();
        }
        return file;
    }

    static byte[] npy(String descr, String shape, byte[] data) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int total = (10 + dict.length() + 1 + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) (total - 10)).put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').put(data);
        return b.array();
    }
}
