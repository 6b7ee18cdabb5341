package dev.refact.clip.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One logical checkpoint made of one or more safetensors files (a sharded model with a
 * {@code *.safetensors.index.json}), read through the same calls as {@link SafetensorsFile}.
 *
 * <p>Every shard is opened and validated up front; a tensor name present in two shards, or an
 * index entry pointing at a shard that does not hold the tensor, is a
 * {@link CheckpointFormatException}. Closing closes every shard.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    private final Path source;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private SafetensorsCheckpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.source = source;
        this.files = files;
        this.byName = byName;
    }

    /**
     * Opens a model folder ({@link Checkpoints#weightFiles}), a {@code .safetensors.index.json},
     * or a single {@code .safetensors} file.
     *
     * @param path a model folder, a shard index or a single safetensors file
     * @return the open checkpoint, every file validated; the caller must close it
     * @throws CheckpointFormatException for malformed files, inconsistent shards or pickle-only folders
     * @throws IOException               if a path does not exist or a file cannot be read
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        List<Path> paths;
        Map<String, Path> weightMap = null;
        Checkpoints.refusePickle(path);
        if (Files.isDirectory(path)) {
            paths = Checkpoints.weightFiles(path);
            Path index = indexBeside(path, paths);
            if (index != null) {
                weightMap = Checkpoints.readWeightMap(index);
            }
        } else if (path.getFileName().toString().endsWith(".index.json")) {
            weightMap = Checkpoints.readWeightMap(path);
            paths = Checkpoints.shardsOf(path);
        } else {
            paths = List.of(path);
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (String n : f.names()) {
                    SafetensorsFile prev = byName.put(n, f);
                    if (prev != null) {
                        throw new CheckpointFormatException(p, n, "also present in " + prev.path().getFileName());
                    }
                }
            }
            if (weightMap != null) {
                for (Map.Entry<String, Path> e : weightMap.entrySet()) {
                    SafetensorsFile holder = byName.get(e.getKey());
                    if (holder == null || !holder.path().toAbsolutePath().normalize()
                            .equals(e.getValue().toAbsolutePath().normalize())) {
                        throw new CheckpointFormatException(e.getValue(), e.getKey(), "listed in the shard index but "
                                + (holder == null ? "absent from every shard" : "found in " + holder.path().getFileName()));
                    }
                }
            }
            return new SafetensorsCheckpoint(path, List.copyOf(opened), byName);
        } catch (IOException | RuntimeException e) {
            closeAfterFailure(opened, e);
            throw e;
        }
    }

    /**
     * Cleanup after {@link #open} failed: closes every file opened so far, adding any failure to close one as a
     * suppressed exception of {@code failure} (which stays the error reported) and going on with the next.
     */
    static void closeAfterFailure(List<? extends AutoCloseable> opened, Throwable failure) {
        for (AutoCloseable f : opened) {
            try {
                f.close();
            } catch (Exception e) {
                failure.addSuppressed(e);
            }
        }
    }

    private static Path indexBeside(Path dir, List<Path> shards) throws IOException {
        try (var s = Files.list(dir)) {
            List<Path> idx = s.filter(p -> p.getFileName().toString().endsWith(".safetensors.index.json")).sorted().toList();
            for (Path i : idx) {
                if (Checkpoints.shardsOf(i).equals(shards)) {
                    return i;
                }
            }
        }
        return null;
    }

    /**
     * What was opened (folder, index or file).
     *
     * @return the path given to {@link #open}
     */
    public Path source() {
        return source;
    }

    /**
     * The files, in order.
     *
     * @return the safetensors files, in the order they were opened (shards sorted by name), unmodifiable
     */
    public List<Path> files() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    /**
     * Tensor names: each file's header order, files in order.
     *
     * @return every tensor name of every file, each once, unmodifiable
     */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * Whether any file holds this tensor.
     *
     * @param name a tensor name, e.g. {@code text_model.encoder.layers.9.mlp.fc2.weight}
     * @return true if one of the files holds it
     */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * The file that holds {@code name}.
     *
     * @param name a tensor name
     * @return the (open, shared) file holding it; closed with this checkpoint, do not close it separately
     * @throws IllegalArgumentException naming the checkpoint, with a few similar names, when no file holds it
     */
    public SafetensorsFile fileOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new IllegalArgumentException(source + ": no tensor '" + name + "' in " + files.size() + " file(s) ("
                    + byName.size() + " tensors; closest: " + SafetensorsFile.closestNames(name, byName.keySet(), 3) + ")");
        }
        return f;
    }

    /**
     * See {@link SafetensorsFile#info}.
     *
     * @param name a tensor name
     * @return the tensor's dtype, shape and byte range within its own file
     */
    public TensorInfo info(String name) {
        return fileOf(name).info(name);
    }

    /**
     * See {@link SafetensorsFile#readFloats}.
     *
     * @param name the name of a floating-point tensor
     * @return a new array of its values as float32, row-major
     * @throws IOException if the file cannot be read or has been truncated since it was opened
     */
    public float[] readFloats(String name) throws IOException {
        return fileOf(name).readFloats(name);
    }

    /**
     * See {@link SafetensorsFile#readDoubles}.
     *
     * @param name the name of a floating-point tensor
     * @return a new array of its values as float64, row-major
     * @throws IOException if the file cannot be read or has been truncated since it was opened
     */
    public double[] readDoubles(String name) throws IOException {
        return fileOf(name).readDoubles(name);
    }

    /**
     * See {@link SafetensorsFile#readLongs}.
     *
     * @param name the name of an integer or BOOL tensor
     * @return a new array of its values as longs, row-major
     * @throws IOException if the file cannot be read or has been truncated since it was opened
     */
    public long[] readLongs(String name) throws IOException {
        return fileOf(name).readLongs(name);
    }

    /**
     * See {@link SafetensorsFile#toTensor(String, Device)}; the caller owns the result.
     *
     * @param name   a tensor name
     * @param device where the new tensor is placed
     * @return a new tensor of the stored shape and dtype on {@code device}, owned by the caller
     * @throws IOException if the file cannot be read or has been truncated since it was opened
     */
    public Tensor toTensor(String name, Device device) throws IOException {
        return fileOf(name).toTensor(name, device);
    }

    /**
     * See {@link SafetensorsFile#toTensor(String, ScalarType, Device)}; the caller owns the result.
     *
     * @param name         a tensor name
     * @param computeDtype the dtype of the result (the stored values are converted by libtorch)
     * @param device       where the new tensor is placed
     * @return a new tensor of the stored shape, {@code computeDtype}, on {@code device}, owned by the caller
     * @throws IOException if the file cannot be read or has been truncated since it was opened
     */
    public Tensor toTensor(String name, ScalarType computeDtype, Device device) throws IOException {
        return fileOf(name).toTensor(name, computeDtype, device);
    }

    /**
     * Closes every file, also when closing one of them fails.
     *
     * @throws IOException the first failure to close a file (later ones added to it as suppressed exceptions)
     */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
