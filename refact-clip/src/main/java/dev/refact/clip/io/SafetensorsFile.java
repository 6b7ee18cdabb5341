package dev.refact.clip.io;

import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A safetensors file, opened read-only with a strictly validated header.
 *
 * <p>Layout: 8-byte little-endian header length {@code n}, {@code n} bytes of UTF-8 JSON (an object
 * mapping tensor names to {@code {"dtype", "shape", "data_offsets"}}, plus an optional
 * {@code "__metadata__"} string→string object), then the data section. Tensor data is little-endian,
 * row-major.
 *
 * <p>{@link #open} refuses pickle files by extension and validates the whole header (see {@code docs/formats.md}); every problem is a
 * {@link CheckpointFormatException} naming the file and the tensor. Tensor bytes are read lazily, only
 * the requested tensor's region, in chunks of at most 1 GiB (so files larger than 2 GB work): Java-array
 * reads through {@link FileChannel#map}, {@link #toTensor} with positional reads straight into the tensor's
 * native memory (no mapped pages left in the process's RSS).
 *
 * <p>Thread-safe for concurrent reads. After {@link #close()} every read throws
 * {@link IllegalStateException}.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Bytes mapped at a time; a multiple of 8 so no element straddles two chunks. */
    static final long DEFAULT_CHUNK = 1L << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final SafetensorsHeader header;
    private final long chunk;
    private volatile boolean closed;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, SafetensorsHeader header, long chunk) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.header = header;
        this.chunk = chunk;
    }

    /**
     * Opens and validates {@code path}.
     *
     * @param path a {@code .safetensors} file (not a folder; pickle extensions are refused)
     * @return the open file; the caller must close it
     * @throws CheckpointFormatException if the file is not a well-formed safetensors file
     * @throws IOException               if it cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        return open(path, DEFAULT_CHUNK);
    }

    /** As {@link #open(Path)} with a smaller mapping chunk (a multiple of 8), so tests can cross chunks. */
    static SafetensorsFile open(Path path, long chunk) throws IOException {
        if (chunk <= 0 || chunk % 8 != 0) {
            throw new IllegalArgumentException("chunk must be a positive multiple of 8: " + chunk);
        }
        if (java.nio.file.Files.isDirectory(path)) {
            throw new CheckpointFormatException(path, "is a directory; open a folder with SafetensorsCheckpoint.open "
                    + "or find its weights with Checkpoints.findWeights");
        }
        Checkpoints.refusePickle(path);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointFormatException(path, "file is " + size + " bytes, shorter than the 8-byte header "
                        + "length (truncated or not a safetensors file)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new CheckpointFormatException(path, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + SafetensorsHeader.MAX_HEADER_BYTES + " bytes (corrupt or not a "
                        + "safetensors file)");
            }
            if (n > size - 8) {
                throw new CheckpointFormatException(path, "header length " + n + " is larger than the " + (size - 8)
                        + " bytes after the length field (file truncated in the header?)");
            }
            if (n < 2) {
                throw new CheckpointFormatException(path, "header length " + n + " is too small for a JSON object");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, path);
            SafetensorsHeader header = SafetensorsHeader.parse(path, hb.array(), size - 8 - n);
            return new SafetensorsFile(path, ch, 8 + n, header, chunk);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long position, Path path) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new CheckpointFormatException(path, "unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    /**
     * The file this was opened from.
     *
     * @return the path given to {@link #open}
     */
    public Path path() {
        return path;
    }

    /**
     * The {@code __metadata__} entries (empty when absent), unmodifiable.
     *
     * @return the header's metadata, key to value, in header order
     */
    public Map<String, String> metadata() {
        return header.metadata;
    }

    /**
     * Tensor names in header order, unmodifiable.
     *
     * @return the names of every tensor in the file
     */
    public List<String> names() {
        return List.copyOf(header.tensors.keySet());
    }

    /**
     * All tensor descriptions in header order, unmodifiable.
     *
     * @return the dtype, shape and byte range of every tensor in the file
     */
    public List<TensorInfo> infos() {
        return List.copyOf(header.tensors.values());
    }

    /**
     * Whether a tensor of this name is in the file.
     *
     * @param name a tensor name, e.g. {@code text_model.encoder.layers.9.mlp.fc2.weight}
     * @return true if the header lists it
     */
    public boolean contains(String name) {
        return header.tensors.containsKey(name);
    }

    /**
     * Where the tensor lives and what it is.
     *
     * @param name a tensor name
     * @return its dtype, shape and byte range (relative to the data section)
     * @throws IllegalArgumentException naming the file and tensor, with a few similar names, when absent
     */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path + ": no tensor '" + name + "' (" + header.tensors.size()
                    + " tensors; closest: " + closestNames(name, header.tensors.keySet(), 3) + ")");
        }
        return t;
    }

    /**
     * A floating-point tensor as float32, row-major. F16 and BF16 widen exactly (as torch does, NaN
     * payloads kept); F64 rounds to nearest-even (as torch's {@code .float()}).
     *
     * @param name the name of a floating-point tensor
     * @return a new array of {@code numel} values, row-major
     * @throws IllegalArgumentException if absent, not floating point, or ≥ 2^31 elements
     * @throws IllegalStateException    after {@link #close()}
     * @throws IOException              if reading fails or the file has been truncated since it was opened
     */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + t.dtype()
                    + ", not floating point; use readLongs");
        }
        float[] out = new float[arrayLength(t)];
        int[] at = {0};
        forEachChunk(t, buf -> {
            int count = buf.remaining() / t.dtype().byteSize();
            switch (t.dtype()) {
                case F32 -> buf.asFloatBuffer().get(out, at[0], count);
                case F64 -> {
                    for (int i = 0; i < count; i++) {
                        out[at[0] + i] = (float) buf.getDouble(i * 8);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < count; i++) {
                        out[at[0] + i] = HalfFloats.halfToFloat(buf.getShort(i * 2));
                    }
                }
                case BF16 -> {
                    for (int i = 0; i < count; i++) {
                        out[at[0] + i] = HalfFloats.bfloat16ToFloat(buf.getShort(i * 2));
                    }
                }
                default -> throw new AssertionError(t.dtype());
            }
            at[0] += count;
        });
        return out;
    }

    /**
     * A floating-point tensor as float64, row-major (F64 as stored; other float dtypes widen exactly).
     *
     * @param name the name of a floating-point tensor
     * @return a new array of {@code numel} values, row-major
     * @throws IllegalArgumentException if absent, not floating point, or ≥ 2^31 elements
     * @throws IllegalStateException    after {@link #close()}
     * @throws IOException              if reading fails or the file has been truncated since it was opened
     */
    public double[] readDoubles(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype() != DType.F64) {
            float[] f = readFloats(name);
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
        double[] out = new double[arrayLength(t)];
        int[] at = {0};
        forEachChunk(t, buf -> {
            int count = buf.remaining() / 8;
            buf.asDoubleBuffer().get(out, at[0], count);
            at[0] += count;
        });
        return out;
    }

    /**
     * An integer or BOOL tensor as longs, row-major (U8 unsigned, BOOL as 0/1).
     *
     * @param name the name of an integer or BOOL tensor
     * @return a new array of {@code numel} values, row-major
     * @throws IllegalArgumentException if absent, floating point, or ≥ 2^31 elements
     * @throws IllegalStateException    after {@link #close()}
     * @throws IOException              if reading fails or the file has been truncated since it was opened
     */
    public long[] readLongs(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + t.dtype()
                    + ", not an integer type; use readFloats");
        }
        long[] out = new long[arrayLength(t)];
        int[] at = {0};
        forEachChunk(t, buf -> {
            int count = buf.remaining() / t.dtype().byteSize();
            int base = at[0];
            switch (t.dtype()) {
                case I64 -> buf.asLongBuffer().get(out, base, count);
                case I32 -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = buf.getInt(i * 4);
                    }
                }
                case I16 -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = buf.getShort(i * 2);
                    }
                }
                case I8 -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = buf.get(i);
                    }
                }
                case U8 -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = buf.get(i) & 0xFF;
                    }
                }
                case BOOL -> {
                    for (int i = 0; i < count; i++) {
                        out[base + i] = buf.get(i) != 0 ? 1 : 0;
                    }
                }
                default -> throw new AssertionError(t.dtype());
            }
            at[0] += count;
        });
        return out;
    }

    /**
     * A new tensor holding the stored values, in its stored dtype, on {@code device}. The caller
     * owns (closes) it.
     *
     * @param name   a tensor name
     * @param device where the new tensor is placed (e.g. CPU or a CUDA device)
     * @return a new tensor of the stored shape and dtype, owned by the caller
     * @throws IllegalArgumentException if the tensor is absent
     * @throws IllegalStateException    after {@link #close()}
     * @throws IOException              if reading fails or the file has been truncated since it was opened
     */
    public Tensor toTensor(String name, Device device) throws IOException {
        return toTensor(name, info(name).dtype().scalarType(), device);
    }

    /**
     * A new tensor of shape {@link TensorInfo#shape()} converted to {@code computeDtype} on
     * {@code device}. The bytes are read (positional reads, not a memory map) straight from the file into the
     * tensor's native memory: no Java heap copy, and no mapped file pages left in the process's RSS, so a
     * loaded model costs its weights once. Conversion is libtorch's. The caller owns (closes) the result: it
     * has exactly one reference and belongs to no {@code PointerScope}.
     *
     * @param name         a tensor name
     * @param computeDtype the dtype of the result, e.g. {@code ScalarType.Float} for an F16 tensor
     * @param device       where the new tensor is placed (e.g. CPU or a CUDA device)
     * @return a new tensor of the stored shape, {@code computeDtype}, on {@code device}, owned by the caller
     * @throws IllegalArgumentException if the tensor is absent
     * @throws IllegalStateException    after {@link #close()}
     * @throws IOException              if reading fails or the file has been truncated since it was opened
     */
    @SuppressWarnings("try") // the scope is used implicitly by every native allocation
    public Tensor toTensor(String name, ScalarType computeDtype, Device device) throws IOException {
        TensorInfo t = info(name);
        ensureOpen();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("big-endian hosts are not supported for toTensor");
        }
        TorchRuntime.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            ScalarType loadType = t.dtype() == DType.BOOL ? ScalarType.Byte : t.dtype().scalarType();
            Tensor cpu = torch.empty(t.shape(), Tensors.options(loadType, Tensors.cpu()), new MemoryFormatOptional());
            if (t.byteLength() > 0) {
                readInto(t, new BytePointer(cpu.data_ptr()).capacity(t.byteLength()));
            }
            if (t.dtype() == DType.BOOL) {
                cpu = cpu.to(ScalarType.Bool); // any non-zero byte is true, as torch casts
            }
            Tensor out = cpu.to(device, computeDtype, false, false, new MemoryFormatOptional());
            return out.retainReference();
        }
    }

    /** Closes the file; later reads throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header.tensors.size() + " tensors]";
    }

    // ---- internals

    @FunctionalInterface
    private interface ChunkConsumer {
        void accept(ByteBuffer littleEndianChunk) throws IOException;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    private int arrayLength(TensorInfo t) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(path + ": tensor '" + t.name() + "' has " + n
                    + " elements, too many for a Java array; use toTensor");
        }
        return (int) n;
    }

    /**
     * Reads the tensor's bytes into native memory {@code dst} ({@code byteLength} bytes) with positional reads in
     * pieces of at most {@code chunk} bytes (a direct buffer over native memory can address at most 2 GiB).
     */
    private void readInto(TensorInfo t, BytePointer dst) throws IOException {
        ensureOpen();
        try {
            long need = dataStart + t.end();
            if (channel.size() < need) {
                throw new CheckpointFormatException(path, t.name(), "file shrank to " + channel.size()
                        + " bytes after it was opened; the tensor needs bytes up to " + need);
            }
            long pos = dataStart + t.begin();
            long done = 0;
            long total = t.byteLength();
            while (done < total) {
                long len = Math.min(total - done, Math.min(chunk, Integer.MAX_VALUE - 8));
                ByteBuffer d = dst.position(done).limit(done + len).asByteBuffer();
                while (d.hasRemaining()) {
                    int r = channel.read(d, pos);
                    if (r < 0) {
                        throw new CheckpointFormatException(path, t.name(), "file ends at byte " + pos
                                + " inside the tensor's data");
                    }
                    pos += r;
                }
                done += len;
            }
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(path + " is closed", e);
        }
    }

    /** Maps the tensor's region chunk by chunk (each chunk a whole number of elements). */
    private void forEachChunk(TensorInfo t, ChunkConsumer consumer) throws IOException {
        ensureOpen();
        try {
            long need = dataStart + t.end();
            if (channel.size() < need) {
                throw new CheckpointFormatException(path, t.name(), "file shrank to " + channel.size()
                        + " bytes after it was opened; the tensor needs bytes up to " + need);
            }
            long pos = dataStart + t.begin();
            long remaining = t.byteLength();
            while (remaining > 0) {
                long len = Math.min(remaining, chunk);
                MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, pos, len);
                m.order(ByteOrder.LITTLE_ENDIAN);
                consumer.accept(m);
                pos += len;
                remaining -= len;
            }
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(path + " is closed", e);
        }
    }

    /** Up to {@code k} names closest to {@code wanted} (edit distance), for error messages. */
    static String closestNames(String wanted, java.util.Collection<String> names, int k) {
        List<String> all = new ArrayList<>(names);
        if (all.isEmpty()) {
            return "none";
        }
        return all.stream()
                .sorted(Comparator.comparingInt((String s) -> editDistance(wanted, s)).thenComparing(s -> s))
                .limit(k)
                .map(s -> "'" + s + "'")
                .collect(Collectors.joining(", "));
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] tmp = prev;
            prev = cur;
            cur = tmp;
        }
        return prev[b.length()];
    }
}
