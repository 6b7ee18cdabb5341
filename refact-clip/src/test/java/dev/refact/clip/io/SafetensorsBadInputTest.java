package dev.refact.clip.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every malformed safetensors file must give a {@link CheckpointFormatException} that names the
 * file (and the tensor when there is one) and says what is wrong — never an OutOfMemoryError,
 * a JVM crash or a silent misread.
 */
final class SafetensorsBadInputTest {
    @TempDir
    Path dir;

    /** Opens {@code bytes} as a file and returns the failure message after checking it names the file. */
    private String failure(byte[] bytes) throws IOException {
        Path p = TestFiles.write(dir, "bad.safetensors", bytes);
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    private static byte[] valid() {
        return TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}", TestFiles.floatsLE(1, 2, 3, 4, 5, 6));
    }

    private static byte[] lengthOnly(long headerLength, int extraBytes) {
        return ByteBuffer.allocate(8 + extraBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
    }

    @Test
    void open_validReference_reads() throws IOException {
        Path p = TestFiles.write(dir, "ok.safetensors", valid());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(java.util.List.of("a", "b"), f.names());
            assertTrue(Arrays.equals(new float[] {3, 4, 5, 6}, f.readFloats("b")));
        }
    }

    @Test
    void open_emptyFile_throwsNamingFile() throws IOException {
        assertMentions(failure(new byte[0]), "0 bytes", "shorter than the 8-byte");
    }

    @Test
    void open_fiveByteFile_throwsNamingFile() throws IOException {
        assertMentions(failure(new byte[5]), "5 bytes");
    }

    @Test
    void open_truncatedHeader_throwsNamingFile() throws IOException {
        byte[] ok = valid();
        assertMentions(failure(Arrays.copyOf(ok, 8 + 20)), "header length", "truncated in the header");
    }

    @Test
    void open_truncatedData_throwsNamingFileAndTensor() throws IOException {
        byte[] ok = valid();
        assertMentions(failure(Arrays.copyOf(ok, ok.length - 4)), "tensor 'b'", "past the end of the data section");
    }

    @Test
    void open_headerLengthLargerThanFile_throwsNamingFile() throws IOException {
        assertMentions(failure(lengthOnly(1000, 100)), "header length 1000", "100 bytes");
    }

    @Test
    void open_hugeHeaderLength_throwsWithoutAllocating() throws IOException {
        assertMentions(failure(lengthOnly(1L << 62, 16)), "header length " + (1L << 62), "exceeds the limit");
    }

    @Test
    void open_headerLengthWithTopBitSet_throwsShowingUnsignedValue() throws IOException {
        assertMentions(failure(lengthOnly(-1L, 16)), "18446744073709551615", "exceeds the limit");
    }

    @Test
    void open_headerLengthJustOverLimit_throws() throws IOException {
        assertMentions(failure(lengthOnly(100_000_001L, 16)), "exceeds the limit of 100000000");
    }

    @Test
    void open_lyingShape_throwsNamingTensorAndSizes() throws IOException {
        String m = failure(TestFiles.safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}",
                new byte[20]));
        assertMentions(m, "tensor 'w'", "[2, 3]", "24 bytes", "20 bytes");
    }

    @Test
    void open_overlappingOffsets_throwsNamingBothTensors() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", new byte[24]));
        assertMentions(m, "tensor 'b'", "overlap", "'a'");
    }

    @Test
    void open_offsetsPastEnd_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[1000],\"data_offsets\":[0,1000]}}",
                new byte[16]));
        assertMentions(m, "tensor 'a'", "[0, 1000]", "16 bytes");
    }

    @Test
    void open_hugeOffsets_throwsWithoutAllocating() throws IOException {
        long big = 1L << 62;
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0,"
                + big + "]}}", new byte[8]));
        assertMentions(m, "tensor 'a'", "past the end");
    }

    @Test
    void open_endBeforeBegin_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "end before begin");
    }

    @Test
    void open_negativeDimension_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}",
                new byte[16]));
        assertMentions(m, "tensor 'a'", "negative value -1", "shape");
    }

    @Test
    void open_fractionalDimension_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "2.5", "not an integer");
    }

    @Test
    void open_shapeProductOverflows_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                + "\"data_offsets\":[0,16]}}", new byte[16]));
        assertMentions(m, "tensor 'a'", "overflows");
    }

    @Test
    void open_dimensionBeyondLong_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
                + "\"data_offsets\":[0,16]}}", new byte[16]));
        assertMentions(m, "tensor 'a'", "too large");
    }

    @Test
    void open_unknownDtype_throwsNamingTensorAndDtype() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "'F8_E4M3'", "unsupported");
    }

    @Test
    void open_nonJsonHeader_throwsNamingFile() throws IOException {
        String m = failure(TestFiles.safetensors("{this is not json", new byte[0]));
        assertMentions(m, "not valid JSON", "line 1");
        assertTrue(!m.contains("LENIENT") && !m.contains("\n"), m);
    }

    @Test
    void open_headerNotAnObject_throwsNamingFile() throws IOException {
        assertMentions(failure(TestFiles.safetensors("[1, 2, 3]", new byte[0])), "does not start with '{'");
    }

    @Test
    void open_headerWithTrailingGarbage_throwsNamingFile() throws IOException {
        assertMentions(failure(TestFiles.safetensors("{} {}", new byte[0])), "not valid JSON", "syntax error at line 1 column 5");
    }

    @Test
    void open_invalidUtf8Header_throwsNamingFile() throws IOException {
        byte[] b = TestFiles.safetensors("{\"ab\":1}", new byte[0]);
        b[10] = (byte) 0xFF; // inside the key
        assertMentions(failure(b), "UTF-8");
    }

    @Test
    void open_duplicateTensorKey_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", new byte[8]));
        assertMentions(m, "tensor 'a'", "duplicate");
    }

    @Test
    void open_metadataWithNumberValue_throwsNamingKey() throws IOException {
        String m = failure(TestFiles.safetensors("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}", new byte[0]));
        assertMentions(m, "'__metadata__'", "'step'", "must be a string");
    }

    @Test
    void open_metadataNotObject_throws() throws IOException {
        assertMentions(failure(TestFiles.safetensors("{\"__metadata__\":\"pt\"}", new byte[0])), "'__metadata__'");
    }

    @Test
    void open_missingDataOffsets_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", new byte[8]));
        assertMentions(m, "tensor 'a'", "lacks 'data_offsets'");
    }

    @Test
    void open_threeDataOffsets_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "data_offsets");
    }

    @Test
    void open_shapeAsString_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":\"1\",\"data_offsets\":[0,1]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "'shape' must be an array");
    }

    @Test
    void open_dtypeAsNumber_throwsNamingTensor() throws IOException {
        String m = failure(TestFiles.safetensors("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,1]}}",
                new byte[8]));
        assertMentions(m, "tensor 'a'", "'dtype' must be a string");
    }

    @Test
    void open_entryNotObject_throwsNamingTensor() throws IOException {
        assertMentions(failure(TestFiles.safetensors("{\"a\":[0,1]}", new byte[8])), "tensor 'a'", "must be an object");
    }

    @Test
    void open_zeroSizedTensorsAtSameOffset_accepted() throws IOException {
        Path p = TestFiles.write(dir, "empty.safetensors", TestFiles.safetensors(
                "{\"e1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                        + "\"e2\":{\"dtype\":\"I64\",\"shape\":[0],\"data_offsets\":[0,0]},"
                        + "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", TestFiles.floatsLE(7)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(0, f.readFloats("e1").length);
            assertEquals(0, f.readLongs("e2").length);
            assertTrue(Arrays.equals(new float[] {7}, f.readFloats("s")));
            assertEquals(1, f.info("s").numel());
        }
    }

    @Test
    void readFloats_fileTruncatedAfterOpen_throwsNamingTensor() throws IOException {
        Path p = TestFiles.write(dir, "shrinks.safetensors", valid());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(Files.size(p) - 8);
            }
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> f.readFloats("b"));
            assertMentions(e.getMessage(), p.toString(), "tensor 'b'", "shrank");
        }
    }

    @Test
    void readLongs_floatTensor_throwsIllegalArgumentNamingDtype() throws IOException {
        Path p = TestFiles.write(dir, "ok.safetensors", valid());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readLongs("a"));
            assertMentions(e.getMessage(), "'a'", "F32");
        }
    }

    @Test
    void open_headerOfManyLongNames_readsWithoutTrouble() throws IOException {
        StringBuilder sb = new StringBuilder("{");
        int n = 2000;
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append('"').append("layer.").append(i).append(".weight\":{\"dtype\":\"U8\",")
                    .append("\"shape\":[1],\"data_offsets\":[").append(i).append(',').append(i + 1).append("]}");
        }
        sb.append('}');
        Path p = TestFiles.write(dir, "many.safetensors", TestFiles.safetensors(sb.toString(), new byte[n]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(n, f.names().size());
            assertEquals("layer.1999.weight", f.names().get(n - 1));
        }
        assertEquals(sb.length(), new String(Files.readAllBytes(p), 8, sb.length(), StandardCharsets.UTF_8).length());
    }

    @Test
    void open_directory_throwsPointingToCheckpointApi() {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(dir));
        assertMentions(e.getMessage(), dir.toString(), "directory", "SafetensorsCheckpoint");
    }

    @Test
    void open_pickleExtension_refusedWithoutReading() throws IOException {
        Path p = TestFiles.write(dir, "pytorch_model.bin", valid()); // even a valid layout is not read
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafetensorsFile.open(p));
        assertMentions(e.getMessage(), p.toString(), "pickle", "execute arbitrary code");
    }
}
