package dev.refact.diffusion;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import dev.refact.clip.torch.TorchRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Weight lookup by exact diffusers parameter name, used while a model is being built.
 *
 * <p>Every {@link #take} records the name. A missing name or a wrong shape does not throw at once:
 * building continues, and {@link #finish()} reports every missing, unexpected and mis-shaped tensor
 * in one {@link CheckpointFormatException} naming the file. Tensors are created outside any
 * {@link PointerScope} in the compute dtype on the model's device; after a successful
 * {@code finish()} the model owns them (and closes them); after a failed one they are already closed.
 *
 * <p>A second mode, {@link #random(long, ScalarType, Device)}, makes seeded random tensors of the
 * requested shapes instead of reading a file (benchmarks build full-size models this way).
 */
@SuppressWarnings("try") // PointerScope and NoGradGuard are used for their scope, not referenced
final class Weights {
    private final SafetensorsFile file;
    private final Path source;
    private final ScalarType dtype;
    private final Device device;
    private final Generator generator;
    private final Map<String, Tensor> taken = new LinkedHashMap<>();
    private final List<String> missing = new ArrayList<>();
    private final List<String> misshaped = new ArrayList<>();
    private final Map<String, Object> modules = new LinkedHashMap<>();
    /** diffusers name → name in the file ({@code null}: not in this layout); identity for diffusers folders. */
    private java.util.function.UnaryOperator<String> rename = n -> n;
    /** Which file tensors belong to the component being built (the others are not "unexpected"). */
    private java.util.function.Predicate<String> owns = n -> true;
    private final Set<String> takenFileNames = new java.util.HashSet<>();

    private Weights(SafetensorsFile file, Path source, ScalarType dtype, Device device, Generator generator) {
        this.file = file;
        this.source = source;
        this.dtype = dtype;
        this.device = device;
        this.generator = generator;
    }

    /**
     * Reads one component of a single-file checkpoint: {@code rename} maps each diffusers name to the file's name
     * (or {@code null}); only file tensors accepted by {@code owns} must be used.
     */
    static Weights fromSingleFile(Path path, java.util.function.UnaryOperator<String> rename,
                                  java.util.function.Predicate<String> owns, ScalarType dtype, Device device)
            throws IOException {
        Weights w = fromFile(path, dtype, device);
        w.rename = rename;
        w.owns = owns;
        return w;
    }

    /** Reads weights from a safetensors file (F32/F16/BF16 on disk, converted to {@code dtype}). */
    static Weights fromFile(Path path, ScalarType dtype, Device device) throws IOException {
        TorchRuntime.ensureLoaded();
        return new Weights(SafetensorsFile.open(path), path, dtype, device, null);
    }

    /**
     * Seeded random weights: matrices and kernels N(0,1)/sqrt(fan_in), biases 0.02·N(0,1),
     * normalisation scales 1 and shifts 0. For benchmarks and tests only.
     */
    static Weights random(long seed, ScalarType dtype, Device device) {
        TorchRuntime.ensureLoaded();
        Generator g = torch.make_generator_cpu(seed);
        return new Weights(null, Path.of("random-weights-seed-" + seed), dtype, device, g);
    }

    /** Records a built layer under its diffusers module path (tests apply single layers by name). */
    void register(String path, Object module) {
        modules.put(path, module);
    }

    /** The layers registered so far, by module path. */
    Map<String, Object> modules() {
        return modules;
    }

    /** Where the weights come from, for messages. */
    Path source() {
        return source;
    }

    /** Whether the checkpoint has this tensor (random weights: never, so the current names are used). */
    boolean has(String name) {
        String f = file == null ? null : rename.apply(name);
        return f != null && file.contains(f);
    }

    /**
     * The tensor {@code name} with the given shape; {@code null} (recorded for {@link #finish()})
     * when absent or mis-shaped.
     */
    Tensor take(String name, long... shape) {
        return take(name, shape, null);
    }

    /**
     * A linear weight {@code [out, in]}; a 1x1 convolution kernel {@code [out, in, 1, 1]} (older
     * VAE attention files) is accepted and reshaped.
     */
    Tensor takeLinear(String name, long out, long in) {
        return take(name, new long[] {out, in}, new long[] {out, in, 1, 1});
    }

    private Tensor take(String name, long[] shape, long[] alternative) {
        if (taken.containsKey(name)) {
            return taken.get(name);
        }
        if (generator != null) {
            Tensor t = randomTensor(name, shape);
            taken.put(name, t);
            return t;
        }
        String fileName = rename.apply(name);
        if (fileName == null || !file.contains(fileName)) {
            missing.add(fileName == null ? name : fileName);
            return null;
        }
        takenFileNames.add(fileName);
        TensorInfo info = file.info(fileName);
        long[] actual = info.shape();
        boolean alt = alternative != null && Arrays.equals(actual, alternative);
        if (!Arrays.equals(actual, shape) && !alt) {
            misshaped.add(fileName + " has shape " + Arrays.toString(actual) + ", expected " + Arrays.toString(shape));
            taken.put(name, null);
            return null;
        }
        Tensor t;
        try {
            t = file.toTensor(fileName, dtype, device);
        } catch (IOException e) {
            misshaped.add(fileName + ": " + e.getMessage());
            taken.put(name, null);
            return null;
        }
        if (alt) {
            try (PointerScope scope = new PointerScope()) {
                Tensor r = t.reshape(shape).contiguous();
                r.retainReference();
                t.close();
                t = r;
            }
        }
        taken.put(name, t);
        return t;
    }

    private Tensor randomTensor(String name, long[] shape) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t;
            boolean norm = name.contains("norm") && shape.length == 1;
            if (norm && name.endsWith(".weight")) {
                t = torch.ones(shape, Tensors.options(dtype, device));
            } else if (norm) {
                t = torch.zeros(shape, Tensors.options(dtype, device));
            } else {
                Tensor r = torch.randn(shape, new GeneratorOptional(generator),
                        Tensors.options(ScalarType.Float, Tensors.cpu()));
                double scale = 0.02;
                if (shape.length > 1) {
                    long fanIn = 1;
                    for (int i = 1; i < shape.length; i++) {
                        fanIn *= shape[i];
                    }
                    scale = 1.0 / Math.sqrt(fanIn);
                }
                t = r.mul(new Scalar(scale)).to(device, dtype);
            }
            return t.retainReference();
        }
    }

    /**
     * Checks that every tensor in the file was used and every requested one was present with the
     * right shape; returns the loaded tensors (the caller now owns them).
     *
     * @throws CheckpointFormatException listing all missing, unexpected and mis-shaped tensors
     */
    List<Tensor> finish() throws CheckpointFormatException {
        Set<String> unexpected = new TreeSet<>();
        if (file != null) {
            for (String n : file.names()) {
                if (owns.test(n) && !takenFileNames.contains(n)) {
                    unexpected.add(n);
                }
            }
        }
        List<Tensor> owned = new ArrayList<>();
        for (Tensor t : taken.values()) {
            if (t != null) {
                owned.add(t);
            }
        }
        closeFile();
        if (missing.isEmpty() && unexpected.isEmpty() && misshaped.isEmpty()) {
            return owned;
        }
        owned.forEach(Tensor::close);
        StringBuilder sb = new StringBuilder("does not match the model config:");
        if (!missing.isEmpty()) {
            sb.append(" missing ").append(missing.size()).append(' ').append(limit(missing));
        }
        if (!unexpected.isEmpty()) {
            sb.append(missing.isEmpty() ? "" : ";").append(" unexpected ").append(unexpected.size()).append(' ')
                    .append(limit(new ArrayList<>(unexpected)));
        }
        if (!misshaped.isEmpty()) {
            sb.append(missing.isEmpty() && unexpected.isEmpty() ? "" : ";").append(" wrong shape ")
                    .append(limit(misshaped));
        }
        throw new CheckpointFormatException(source, sb.toString());
    }

    /** Releases everything after a failure that happened before {@link #finish()}. */
    void abandon() {
        for (Tensor t : taken.values()) {
            if (t != null) {
                t.close();
            }
        }
        taken.clear();
        closeFile();
    }

    private void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (Exception e) {
                // closing a read-only mapping cannot lose data
            }
        }
        if (generator != null) {
            generator.close();
        }
    }

    private static String limit(List<String> names) {
        if (names.size() <= 12) {
            return names.toString();
        }
        return names.subList(0, 12) + " ... (" + (names.size() - 12) + " more)";
    }
}
