package dev.refact.core.stats;

import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.io.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The covariance statistics file: a safetensors file with one tensor {@code mom2} [i,i] F64 holding the MEAN
 * {@code C = E[k kᵀ]} and string metadata (see {@code docs/formats.md}, "Covariance statistics cache").
 * Package-private: {@link CovarianceStats#save} and {@link CovarianceStats#load} are the API.
 */
final class StatsFile {
    static final String TENSOR = "mom2";
    static final String KIND = "covariance";
    static final String FORMAT_VERSION = "1";

    static final String KEY_KIND = "refact.kind";
    static final String KEY_FORMAT_VERSION = "refact.format_version";
    static final String KEY_MOM2 = "refact.mom2";
    static final String KEY_LAYER = "refact.layer";
    static final String KEY_COUNT = "refact.count";
    static final String KEY_TEXTS = "refact.texts";
    static final String KEY_MAX_TOKENS = "refact.max_tokens";
    static final String KEY_CORPUS = "refact.corpus";
    static final String KEY_CORPUS_SHA256 = "refact.corpus_sha256";
    static final String KEY_MODEL_FINGERPRINT = "refact.model_fingerprint";
    static final String KEY_DTYPE = "refact.dtype";
    static final String KEY_LIBRARY_VERSION = "refact.library_version";

    /** What {@link #read} returns: the mean [i,i] float64 (owned by the caller) and its provenance. */
    record Contents(Tensor mean, StatsProvenance provenance) {
    }

    private StatsFile() {
    }

    /** A writer holding {@code mean} (referenced, not copied: keep it open until {@code write} returns). */
    static SafetensorsWriter writer(Tensor mean, StatsProvenance p) {
        DType dtype = DType.fromScalarType(mean.scalar_type());
        if (dtype != DType.F64) {
            throw new IllegalArgumentException("statistics are stored in float64, got " + dtype);
        }
        return new SafetensorsWriter()
                .metadata(KEY_KIND, KIND)
                .metadata(KEY_FORMAT_VERSION, FORMAT_VERSION)
                .metadata(KEY_MOM2, "mean")
                .metadata(KEY_LAYER, Integer.toString(p.layer()))
                .metadata(KEY_COUNT, Long.toString(p.count()))
                .metadata(KEY_TEXTS, Long.toString(p.texts()))
                .metadata(KEY_MAX_TOKENS, Integer.toString(p.maxTokens()))
                .metadata(KEY_CORPUS, p.corpus())
                .metadata(KEY_CORPUS_SHA256, p.corpusSha256())
                .metadata(KEY_MODEL_FINGERPRINT, p.modelFingerprint())
                .metadata(KEY_DTYPE, p.dtype())
                .metadata(KEY_LIBRARY_VERSION, libraryVersion())
                .add(TENSOR, mean);
    }

    /** Writes atomically (temporary file in the same folder, then rename): a failure leaves {@code file} as it was. */
    static void write(Path file, Tensor mean, StatsProvenance p) throws IOException {
        writer(mean, p).write(file);
    }

    /**
     * Reads and validates a statistics file: kind, tensor name, dtype (F64 or F32), square shape, metadata numbers.
     * Finiteness and symmetry are checked by the caller ({@link CovarianceStats#load}).
     *
     * @throws NoSuchFileException       if the file does not exist
     * @throws CheckpointFormatException if it is not a valid statistics file (the message names the file)
     */
    static Contents read(Path file, Device device) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "covariance statistics file does not exist");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> md = f.metadata();
            String kind = md.get(KEY_KIND);
            if (!KIND.equals(kind)) {
                throw new CheckpointFormatException(file, "not a covariance statistics file: metadata " + KEY_KIND
                        + " is " + (kind == null ? "missing" : "'" + kind + "'") + ", expected '" + KIND + "'");
            }
            String version = md.getOrDefault(KEY_FORMAT_VERSION, FORMAT_VERSION);
            if (!FORMAT_VERSION.equals(version)) {
                throw new CheckpointFormatException(file, "statistics format version " + version
                        + " is not supported (this library reads version " + FORMAT_VERSION + ")");
            }
            String mom2 = md.getOrDefault(KEY_MOM2, "mean");
            if (!"mean".equals(mom2)) {
                throw new CheckpointFormatException(file, KEY_MOM2 + " is '" + mom2 + "', only 'mean' is supported");
            }
            if (!f.contains(TENSOR)) {
                throw new CheckpointFormatException(file, "no tensor '" + TENSOR + "' (tensors: " + f.names() + ")");
            }
            TensorInfo info = f.info(TENSOR);
            long[] s = info.shape();
            if (s.length != 2 || s[0] != s[1] || s[0] == 0) {
                throw new CheckpointFormatException(file, TENSOR, "shape " + Arrays.toString(s)
                        + " is not a non-empty square matrix [i,i]");
            }
            if (info.dtype() != DType.F64 && info.dtype() != DType.F32) {
                throw new CheckpointFormatException(file, TENSOR, "dtype " + info.dtype() + ", expected F64 (or F32)");
            }
            int layer = (int) number(file, md, KEY_LAYER, true, Integer.MAX_VALUE);
            long count = number(file, md, KEY_COUNT, true, Long.MAX_VALUE);
            if (count < 1) {
                throw new CheckpointFormatException(file, KEY_COUNT + " is " + count + ": statistics need at least one key");
            }
            long texts = number(file, md, KEY_TEXTS, false, Long.MAX_VALUE);
            int maxTokens = (int) number(file, md, KEY_MAX_TOKENS, false, Integer.MAX_VALUE);
            StatsProvenance p = new StatsProvenance(text(file, md, KEY_MODEL_FINGERPRINT, true),
                    layer, text(file, md, KEY_CORPUS, true), text(file, md, KEY_CORPUS_SHA256, false), count,
                    md.getOrDefault(KEY_DTYPE, "float64"), texts, maxTokens);
            Tensor mean = f.toTensor(TENSOR, torch.ScalarType.Double, device);
            return new Contents(mean, p);
        }
    }

    private static long number(Path file, Map<String, String> md, String key, boolean required, long max)
            throws CheckpointFormatException {
        String v = md.get(key);
        if (v == null) {
            if (required) {
                throw new CheckpointFormatException(file, "metadata " + key + " is missing");
            }
            return 0;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0 || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CheckpointFormatException(file, "metadata " + key + " = '" + v + "' is not a number in [0, "
                    + max + "]");
        }
    }

    private static String text(Path file, Map<String, String> md, String key, boolean required)
            throws CheckpointFormatException {
        String v = md.get(key);
        if (v == null) {
            if (required) {
                throw new CheckpointFormatException(file, "metadata " + key + " is missing");
            }
            return "";
        }
        return v;
    }

    /** The library version from the jar manifest, or the development version. */
    static String libraryVersion() {
        String v = StatsFile.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
