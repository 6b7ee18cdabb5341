package dev.refact.clip;

import com.google.gson.stream.JsonWriter;
import dev.refact.clip.io.CheckpointFormatException;
import dev.refact.clip.io.DType;
import dev.refact.clip.io.SafetensorsFile;
import dev.refact.clip.io.SafetensorsWriter;
import dev.refact.clip.io.TensorInfo;
import dev.refact.clip.torch.Tensors;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes a {@link ClipTextModel}: as a diffusers {@code text_encoder/} folder, or back into the single
 * safetensors file it was loaded from, in that file's layout.
 *
 * <p>Single-file write-back streams: the header is re-emitted with the same tensor entries in the same order
 * (same names, dtypes, shapes and offsets) and the {@code __metadata__} extended with provenance; the data
 * section is copied from the input with {@link FileChannel#transferTo}, except the byte ranges of the changed
 * weights, which are written from the model in their stored dtype. Nothing but those tensors is held in memory,
 * so multi-GB checkpoints are fine. The output goes to a temporary file in the target folder and is renamed
 * over the target when complete.
 */
final class TextEncoderWriter {
    private TextEncoderWriter() {
    }

    /** See {@link ClipTextModel#save(Path)}. */
    static void save(ClipTextModel m, Path path) throws IOException {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        if (name.endsWith(".safetensors") && !Files.isDirectory(path)) {
            writeBack(m, path);
        } else {
            saveFolder(m, path);
        }
    }

    /** A diffusers {@code text_encoder/} folder (config.json + model.safetensors, stored dtypes kept). */
    static void saveFolder(ClipTextModel m, Path dir) throws IOException {
        Files.createDirectories(dir);
        ParameterStore params = m.store();
        SafetensorsWriter w = new SafetensorsWriter();
        // a shareable file: the folder's name, not the local absolute path
        Path src = Path.of(m.source());
        w.metadata("refact.source", src.isAbsolute() && src.getFileName() != null ? src.getFileName().toString() : m.source());
        w.metadata("refact.fingerprint", m.fingerprint());
        w.metadata(ClipTextModel.CHANGES_METADATA, appliedChangesJson(m));
        try (PointerScope scope = new PointerScope()) {
            for (String name : params.usedNames()) {
                DType stored = params.storedDtype(name);
                Tensor t = params.get(name);
                w.add(name, stored != null && stored.isFloatingPoint() ? t.to(stored.scalarType()) : t);
            }
            w.write(dir.resolve("model.safetensors"));
        }
        dev.refact.clip.io.AtomicFiles.writeString(dir.resolve("config.json"), m.configJson());
    }

    /** One replaced byte range of the data section. */
    private record Replacement(String key, long begin, long end, ByteBuffer bytes) {
    }

    /**
     * Writes the input checkpoint to {@code out} with the model's changed weights in place.
     *
     * @throws IllegalArgumentException for a generated model, a sharded input, a change that is not a plain
     *                                  tensor of the input, or {@code out} being the input itself
     */
    static void writeBack(ClipTextModel m, Path out) throws IOException {
        TextEncoderCheckpoint origin = m.origin();
        if (origin == null) {
            throw new IllegalArgumentException("a generated model has no checkpoint to write back into " + out
                    + "; save it to a folder instead");
        }
        if (!origin.isSingleFile()) {
            throw new IllegalArgumentException("the model was loaded from sharded weights in " + origin.weights()
                    + "; write a folder (--out DIR) instead of " + out);
        }
        Path src = origin.weights();
        if (sameFile(src, out)) {
            throw new IllegalArgumentException("refusing to overwrite the model's own input " + src
                    + "; choose another output file");
        }
        origin.checkUnchanged();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (SafetensorsFile sf = SafetensorsFile.open(src);
             FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
            List<Replacement> replacements = replacements(m, origin, sf);
            Map<String, String> metadata = new LinkedHashMap<>(sf.metadata());
            metadata.put("refact.source", String.valueOf(src.getFileName()));
            metadata.put("refact.fingerprint", m.fingerprint());
            metadata.put(ClipTextModel.CHANGES_METADATA, appliedChangesJson(m));
            metadata.put("refact.edited_tensors",
                    String.join(",", replacements.stream().map(Replacement::key).toList()));
            byte[] header = header(sf.infos(), metadata);
            long dataStart = dataStart(in, src);
            long dataLength = in.size() - dataStart;
            dev.refact.clip.io.AtomicFiles.writeChannel(out, o -> {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                len.putLong(0, header.length);
                writeFully(o, len);
                writeFully(o, ByteBuffer.wrap(header));
                long pos = 0;
                for (Replacement r : replacements) {
                    copy(in, dataStart + pos, r.begin() - pos, o, src);
                    writeFully(o, r.bytes().duplicate());
                    pos = r.end();
                }
                copy(in, dataStart + pos, dataLength - pos, o, src);
            });
        }
    }

    private static List<Replacement> replacements(ClipTextModel m, TextEncoderCheckpoint origin, SafetensorsFile sf)
            throws CheckpointFormatException {
        List<Replacement> out = new ArrayList<>();
        for (String hf : new TreeSet<>(m.changedParameters())) {
            TextEncoderCheckpoint.Source s = origin.sources().get(hf);
            if (s == null || s.transform() != TextEncoderCheckpoint.Transform.IDENTITY) {
                throw new IllegalArgumentException("parameter '" + hf + "' was changed but is not stored as one "
                        + "tensor in " + origin.weights().getFileName() + " (" + origin.layoutName()
                        + "); only weights stored as they are (such as mlp fc2 / c_proj) can be written back");
            }
            TensorInfo info = sf.info(s.key());
            ByteBuffer bytes;
            try (PointerScope scope = new PointerScope(); NoGradGuard ng = new NoGradGuard();
                 Device cpu = Tensors.cpu()) {
                Tensor v = m.parameter(hf).to(cpu, info.dtype().scalarType()).contiguous();
                long n = v.numel() * v.element_size();
                if (n != info.byteLength() || n > Integer.MAX_VALUE) {
                    throw new CheckpointFormatException(origin.weights(), s.key(), "holds " + info.byteLength()
                            + " bytes but the model's '" + hf + "' has " + n);
                }
                bytes = ByteBuffer.allocate((int) n);
                bytes.put(new BytePointer(v.data_ptr()).capacity(n).asByteBuffer());
                bytes.flip();
            }
            out.add(new Replacement(s.key(), info.begin(), info.end(), bytes));
        }
        out.sort(Comparator.comparingLong(Replacement::begin));
        return out;
    }

    /** The header JSON (metadata first, then the tensors in their original order), space-padded to 8 bytes. */
    private static byte[] header(List<TensorInfo> infos, Map<String, String> metadata) throws IOException {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.beginObject();
            w.name("__metadata__").beginObject();
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                w.name(e.getKey()).value(e.getValue());
            }
            w.endObject();
            for (TensorInfo t : infos) {
                w.name(t.name()).beginObject();
                w.name("dtype").value(t.dtype().safetensorsName());
                w.name("shape").beginArray();
                for (long d : t.shape()) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(t.begin()).value(t.end()).endArray();
                w.endObject();
            }
            w.endObject();
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        java.util.Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static long dataStart(FileChannel in, Path src) throws IOException {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining()) {
            if (in.read(len, len.position()) < 0) {
                throw new CheckpointFormatException(src, "truncated header length");
            }
        }
        return 8 + len.getLong(0);
    }

    private static void copy(FileChannel in, long position, long count, FileChannel out, Path src) throws IOException {
        long done = 0;
        while (done < count) {
            long n = in.transferTo(position + done, count - done, out);
            if (n <= 0) {
                if (position + done >= in.size()) {
                    throw new CheckpointFormatException(src, "file shrank while being copied");
                }
                continue;
            }
            done += n;
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private static boolean sameFile(Path a, Path b) throws IOException {
        if (a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize())) {
            return true;
        }
        return Files.exists(b) && Files.isSameFile(a, b);
    }


    /** JSON array of the change ids applied to these weights, oldest first (read back on load). */
    private static String appliedChangesJson(ClipTextModel m) {
        com.google.gson.JsonArray applied = new com.google.gson.JsonArray();
        m.appliedChanges().forEach(applied::add);
        return applied.toString();
    }
}
