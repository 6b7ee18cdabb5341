package dev.refact.clip.io;

import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Collects tensors and writes them as one safetensors file.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .metadata("refact.layer", "1")
 *     .add("weight", tensor)                       // stored in the tensor's dtype
 *     .addFloats("bias", new float[] {1, 2}, 2)    // F32 [2]
 *     .write(Path.of("out.safetensors"));
 * }</pre>
 *
 * <p>The file matches what Python {@code safetensors.torch.save_file} writes: tensors ordered by
 * descending dtype alignment, then by name (the Rust crate's order); compact JSON header with
 * {@code "__metadata__"} first (it always holds {@code "format": "pt"}, keys sorted); header padded
 * with spaces to a multiple of 8 bytes; data little-endian, contiguous, no gaps.
 *
 * <p>{@link #write} is atomic: it writes a temporary file in the target's directory and renames
 * it over the target only when complete, so a failure leaves an existing target untouched.
 * Tensors are streamed from native memory in chunks (no Java-heap copy of the data). A tensor
 * passed to {@link #add} is only referenced, not copied: it must stay open until {@code write}
 * returns, and its values at that time are written. Not thread-safe.
 */
public final class SafetensorsWriter {
    private static final int WRITE_CHUNK = 64 << 20;
    /** Largest byte array the JVM reliably allocates (as {@link SafetensorsFile} and {@link Npy} read). */
    private static final int MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    private final Map<String, String> metadata = new TreeMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    /** An empty writer whose metadata holds {@code "format": "pt"}. */
    public SafetensorsWriter() {
        metadata.put("format", "pt");
    }

    /**
     * Adds (or replaces) one {@code __metadata__} entry.
     *
     * @param key   the metadata key, non-null (written in sorted key order)
     * @param value the metadata value, non-null
     * @return this writer
     */
    public SafetensorsWriter metadata(String key, String value) {
        Objects.requireNonNull(key, "metadata key");
        Objects.requireNonNull(value, "metadata value for '" + key + "'");
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor, stored in its own dtype (F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)
     * with its shape; any device and layout. The tensor is read when {@link #write} runs.
     *
     * @param name   the tensor's key in the header; not {@code __metadata__} and not added before
     * @param tensor the tensor to store; referenced, not copied, so it must stay open until {@link #write} returns
     * @return this writer
     * @throws IllegalArgumentException for a duplicate name, an undefined tensor or an unsupported dtype
     */
    public SafetensorsWriter add(String name, Tensor tensor) {
        checkName(name);
        Objects.requireNonNull(tensor, "tensor '" + name + "'");
        if (tensor.isNull() || !tensor.defined()) {
            throw new IllegalArgumentException("tensor '" + name + "' is closed or undefined");
        }
        DType dtype;
        try {
            dtype = DType.fromScalarType(tensor.scalar_type());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': " + e.getMessage(), e);
        }
        long[] shape = Tensors.shape(tensor);
        entries.put(name, new Entry(name, dtype, shape, tensor, null));
        return this;
    }

    /**
     * Adds float32 values (copied now) with the given shape ({@code []} or none for a scalar).
     *
     * @param name  the tensor's key in the header; not {@code __metadata__} and not added before
     * @param data  the values, row-major; stored as F32
     * @param shape the dimensions, whose product must be {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException for a duplicate name, a shape that does not hold {@code data.length} values,
     *                                  or more than about 2 GiB of bytes (more than ~536 million values: add a
     *                                  {@link Tensor} instead)
     */
    public SafetensorsWriter addFloats(String name, float[] data, long... shape) {
        checkName(name);
        checkShape(name, shape, data.length);
        ByteBuffer b = ByteBuffer.allocate(arrayBytes(name, data.length, DType.F32)).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        entries.put(name, new Entry(name, DType.F32, shape.clone(), null, b.array()));
        return this;
    }

    /**
     * Adds int64 values (copied now) with the given shape.
     *
     * @param name  the tensor's key in the header; not {@code __metadata__} and not added before
     * @param data  the values, row-major; stored as I64
     * @param shape the dimensions ({@code []} or none for a scalar), whose product must be {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException for a duplicate name, a shape that does not hold {@code data.length} values,
     *                                  or more than about 2 GiB of bytes (more than ~268 million values: add a
     *                                  {@link Tensor} instead)
     */
    public SafetensorsWriter addLongs(String name, long[] data, long... shape) {
        checkName(name);
        checkShape(name, shape, data.length);
        ByteBuffer b = ByteBuffer.allocate(arrayBytes(name, data.length, DType.I64)).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(data);
        entries.put(name, new Entry(name, DType.I64, shape.clone(), null, b.array()));
        return this;
    }

    /**
     * Adds raw little-endian element bytes (copied now) of the given dtype and shape, e.g. F16 bit
     * patterns.
     *
     * @param name             the tensor's key in the header; not {@code __metadata__} and not added before
     * @param dtype            the element type the bytes encode
     * @param littleEndianData the elements' bytes, little-endian, row-major
     * @param shape            the dimensions ({@code []} or none for a scalar)
     * @return this writer
     * @throws IllegalArgumentException for a duplicate name or when {@code data.length} ≠ numel × byteSize
     */
    public SafetensorsWriter addBytes(String name, DType dtype, byte[] littleEndianData, long... shape) {
        checkName(name);
        Objects.requireNonNull(dtype, "dtype");
        if (littleEndianData.length % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + littleEndianData.length
                    + " bytes is not a whole number of " + dtype + " elements");
        }
        checkShape(name, shape, littleEndianData.length / dtype.byteSize());
        entries.put(name, new Entry(name, dtype, shape.clone(), null, littleEndianData.clone()));
        return this;
    }

    /**
     * Names added so far, in insertion order.
     *
     * @return an unmodifiable copy of the tensor names (not the order they are written in)
     */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    /**
     * Writes the file atomically (temporary file in the same directory, then rename).
     *
     * @param target the file to create or replace; its folder must exist
     * @throws IllegalStateException if a tensor given to {@link #add} was closed or changed shape
     * @throws IOException           if writing fails; the target is then unchanged
     */
    public void write(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        List<Entry> ordered = new ArrayList<>(entries.values());
        ordered.sort(Comparator.comparingInt((Entry e) -> -e.dtype.writeOrder())
                .thenComparing((a, b) -> Arrays.compareUnsigned(a.utf8Name, b.utf8Name)));
        byte[] header = header(ordered);

        AtomicFiles.writeChannel(target, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            for (Entry e : ordered) {
                e.writeData(ch);
            }
        });
    }

    // ---- internals

    private byte[] header(List<Entry> ordered) {
        StringBuilder sb = new StringBuilder(64 + 96 * ordered.size());
        sb.append('{');
        sb.append("\"__metadata__\":{");
        boolean first = true;
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            appendJsonString(sb, m.getKey());
            sb.append(':');
            appendJsonString(sb, m.getValue());
        }
        sb.append('}');
        long offset = 0;
        for (Entry e : ordered) {
            long n = e.byteLength();
            sb.append(',');
            appendJsonString(sb, e.name);
            sb.append(":{\"dtype\":\"").append(e.dtype.safetensorsName()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(e.shape[i]);
            }
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + n).append("]}");
            offset += n;
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** JSON string as serde_json writes it: escapes quote, backslash and control characters only. */
    static void appendJsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private void checkName(String name) {
        Objects.requireNonNull(name, "tensor name");
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' is reserved and cannot be a tensor name");
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
    }

    private static void checkShape(String name, long[] shape, long count) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape "
                        + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " overflows");
            }
        }
        if (n != count) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + n + " elements but " + count + " values were given");
        }
    }

    /**
     * Bytes of {@code count} values of {@code dtype} copied into one heap array: refused in one line naming the
     * tensor when they exceed what a Java array holds (about 2 GiB), instead of overflowing {@code int}.
     */
    static int arrayBytes(String name, int count, DType dtype) {
        long bytes = (long) count * dtype.byteSize();
        if (bytes > MAX_ARRAY_BYTES) {
            throw new IllegalArgumentException("tensor '" + name + "': " + count + " " + dtype + " values (" + bytes
                    + " bytes) exceed the " + MAX_ARRAY_BYTES + "-byte limit of one in-memory array; add it as a "
                    + "Tensor with add(name, tensor) instead");
        }
        return (int) bytes;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static final class Entry {
        final String name;
        final byte[] utf8Name;
        final DType dtype;
        final long[] shape;
        final Tensor tensor;
        final byte[] bytes;

        Entry(String name, DType dtype, long[] shape, Tensor tensor, byte[] bytes) {
            this.name = name;
            this.utf8Name = name.getBytes(StandardCharsets.UTF_8);
            this.dtype = dtype;
            this.shape = shape;
            this.tensor = tensor;
            this.bytes = bytes;
        }

        long byteLength() {
            long n = dtype.byteSize();
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        @SuppressWarnings("try") // the scope is used implicitly by every native allocation
        void writeData(FileChannel ch) throws IOException {
            if (bytes != null) {
                writeFully(ch, ByteBuffer.wrap(bytes));
                return;
            }
            if (tensor.isNull()) {
                throw new IllegalStateException("tensor '" + name + "' was closed before write()");
            }
            long expected = byteLength();
            if (expected == 0) {
                return;
            }
            try (PointerScope scope = new PointerScope()) {
                ScalarType type = tensor.scalar_type();
                long[] now = Tensors.shape(tensor);
                if (DType.fromScalarType(type) != dtype || !Arrays.equals(now, shape)) {
                    throw new IllegalStateException("tensor '" + name + "' changed from " + dtype + " "
                            + Arrays.toString(shape) + " to " + type + " " + Arrays.toString(now) + " before write()");
                }
                Tensor c = tensor.detach().to(Tensors.cpu(), type).contiguous();
                if (c.nbytes() != expected) {
                    throw new IllegalStateException("tensor '" + name + "' holds " + c.nbytes() + " bytes, expected "
                            + expected);
                }
                BytePointer p = new BytePointer(c.data_ptr()).capacity(expected);
                for (long off = 0; off < expected; off += WRITE_CHUNK) {
                    long len = Math.min(WRITE_CHUNK, expected - off);
                    writeFully(ch, p.position(off).limit(off + len).asByteBuffer());
                }
            }
        }
    }
}
