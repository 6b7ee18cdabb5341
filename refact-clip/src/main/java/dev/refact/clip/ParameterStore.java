package dev.refact.clip;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Owns the weight tensors of a model under their checkpoint names and checks them against what the
 * architecture asks for.
 *
 * <p>{@link #require} records shape mismatches and missing names instead of throwing, so that
 * {@link #checkComplete} can report every problem at once, by name; it also reports tensors in the
 * file that no module used ("unexpected keys"). The store owns every tensor it holds; {@link #close}
 * frees them.
 */
final class ParameterStore implements AutoCloseable {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, DType> storedDtypes = new LinkedHashMap<>();
    private final Set<String> used = new LinkedHashSet<>();
    private final List<String> problems = new ArrayList<>();
    /** Tensors the store owns under no name (fused weights whose named parts are views into them). */
    private final List<Tensor> unnamed = new ArrayList<>();
    private final Path source;

    ParameterStore(Path source) {
        this.source = source;
    }

    /**
     * Loads every tensor of the given files whose name passes {@code keep}, converted to {@code dtype} on
     * {@code device}.
     */
    static ParameterStore load(List<Path> files, Predicate<String> keep, ScalarType dtype, Device device)
            throws IOException {
        ParameterStore store = new ParameterStore(files.size() == 1 ? files.get(0) : files.get(0).getParent());
        try {
            for (Path f : files) {
                try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                    for (String name : sf.names()) {
                        if (!keep.test(name)) {
                            continue;
                        }
                        if (store.tensors.containsKey(name)) {
                            throw new CheckpointFormatException(f, name, "appears in two shards");
                        }
                        TensorInfo info = sf.info(name);
                        store.storedDtypes.put(name, info.dtype());
                        // toTensor hands over a tensor with exactly one reference and attached to no open scope
                        // (it makes it in its own scope): the store becomes its only owner, and close() frees it.
                        Tensor t = sf.toTensor(name, info.dtype().isFloatingPoint() ? dtype
                                : info.dtype().scalarType(), device);
                        store.tensors.put(name, t);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /**
     * Adds a tensor the store will own (used by the random generator). The tensor must not belong to any open
     * {@code PointerScope} (create it inside a private scope and {@code retainReference()} it).
     */
    void put(String name, Tensor t, DType storedAs) {
        Tensor old = tensors.put(name, t);
        if (old != null) {
            old.close();
        }
        storedDtypes.put(name, storedAs);
    }

    /**
     * Concatenates the named tensors along dimension 0 into one tensor the store owns, and replaces each named
     * entry by a view of its rows in it: the names keep working (reads, in-place edits, fingerprints and saves see
     * the same values), while a forward pass can use the fused tensor in one GEMM (e.g. q/k/v projections
     * [d,d] ×3 → [3d,d]). Returns null, changing nothing, when a name is missing or the tensors do not share
     * dtype, device and trailing shape.
     */
    Tensor fuseRows(String... names) {
        Tensor[] parts = new Tensor[names.length];
        for (int i = 0; i < names.length; i++) {
            parts[i] = tensors.get(names[i]);
            if (parts[i] == null || parts[i].dim() < 1) {
                return null;
            }
            long[] s0 = Tensors.shape(parts[0]);
            long[] si = Tensors.shape(parts[i]);
            if (si.length != s0.length || !Arrays.equals(Arrays.copyOfRange(si, 1, si.length),
                    Arrays.copyOfRange(s0, 1, s0.length)) || parts[i].scalar_type().value != parts[0].scalar_type().value) {
                return null;
            }
        }
        Tensor fused;
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
             org.bytedeco.pytorch.NoGradGuard ng = new org.bytedeco.pytorch.NoGradGuard()) {
            fused = org.bytedeco.pytorch.global.torch.cat(new org.bytedeco.pytorch.TensorVector(parts), 0)
                    .retainReference();
            long at = 0;
            for (int i = 0; i < names.length; i++) {
                long rows = parts[i].size(0);
                Tensor view = fused.narrow(0, at, rows).retainReference();
                at += rows;
                tensors.put(names[i], view).close();
            }
        }
        unnamed.add(fused);
        return fused;
    }

    /**
     * A view of rows {@code start..start+rows} of {@code base} (a tensor this store owns) that the store owns too,
     * attached to no scope; closed with the store.
     */
    Tensor ownedRows(Tensor base, long start, long rows) {
        Tensor view;
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            view = base.narrow(0, start, rows).retainReference();
        }
        unnamed.add(view);
        return view;
    }

    /** The tensor under {@code name}, checking its shape; problems are recorded, not thrown. */
    Tensor require(String name, long... shape) {
        used.add(name);
        Tensor t = tensors.get(name);
        if (t == null) {
            problems.add("missing tensor '" + name + "' (expected shape " + Arrays.toString(shape) + ")");
            return null;
        }
        long[] actual = Tensors.shape(t);
        if (!Arrays.equals(actual, shape)) {
            problems.add("tensor '" + name + "' has shape " + Arrays.toString(actual) + ", expected "
                    + Arrays.toString(shape));
        }
        return t;
    }

    /** Records a problem found by the caller (e.g. a shape that disagrees with the config), reported with the rest. */
    void problem(String message) {
        problems.add(message);
    }

    /** The tensor under {@code name} if present (marks it used), else null. */
    Tensor optional(String name) {
        if (tensors.containsKey(name)) {
            used.add(name);
        }
        return tensors.get(name);
    }

    boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * Throws one exception listing every missing, mis-shaped and (unless ignored) unexpected tensor.
     *
     * @param ignoreUnexpected names that may be present without being used (e.g. {@code position_ids})
     */
    void checkComplete(Predicate<String> ignoreUnexpected) throws CheckpointFormatException {
        List<String> all = new ArrayList<>(problems);
        Set<String> unexpected = new TreeSet<>();
        for (String name : tensors.keySet()) {
            if (!used.contains(name) && !ignoreUnexpected.test(name)) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            all.add("unexpected tensors " + unexpected);
        }
        if (!all.isEmpty()) {
            throw new CheckpointFormatException(source, all.size() + " problem(s) with the weights: "
                    + String.join("; ", all));
        }
    }

    Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return t;
    }

    DType storedDtype(String name) {
        return storedDtypes.get(name);
    }

    /** Names of the parameters in checkpoint order. */
    List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(tensors.keySet()));
    }

    /** Names actually used by the architecture, in checkpoint order. */
    List<String> usedNames() {
        List<String> out = new ArrayList<>();
        for (String n : tensors.keySet()) {
            if (used.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (Tensor t : tensors.values()) {
            t.close();
        }
        tensors.clear();
        unnamed.forEach(Tensor::close);
        unnamed.clear();
    }
}
