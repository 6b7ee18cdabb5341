package dev.refact.clip.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strict parser and validator of a safetensors JSON header. Package-private: used by
 * {@link SafetensorsFile}.
 *
 * <p>Every number is checked before it is used; nothing is allocated from a header number.
 */
final class SafetensorsHeader {
    /** The limit the reference implementation applies (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Most dimensions a tensor may have (libtorch's own limit is 64). */
    static final int MAX_RANK = 64;

    final Map<String, String> metadata;
    final Map<String, TensorInfo> tensors;

    private SafetensorsHeader(Map<String, String> metadata, Map<String, TensorInfo> tensors) {
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Parses and validates {@code headerBytes} (the UTF-8 JSON after the 8-byte length).
     *
     * @param file       for messages
     * @param dataLength bytes available after the header
     */
    static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataLength) throws CheckpointFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(file, "header is not valid UTF-8 (not a safetensors file?)");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new CheckpointFormatException(file, "header does not start with '{' (not a safetensors file?): "
                    + preview(text));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            r.setStrictness(Strictness.STRICT);
            r.beginObject();
            boolean sawMetadata = false;
            while (r.hasNext()) {
                String key = r.nextName();
                if (key.equals("__metadata__")) {
                    if (sawMetadata) {
                        throw new CheckpointFormatException(file, "duplicate key '__metadata__' in header");
                    }
                    sawMetadata = true;
                    readMetadata(file, r, metadata);
                } else {
                    if (tensors.containsKey(key)) {
                        throw new CheckpointFormatException(file, key, "duplicate key in header");
                    }
                    tensors.put(key, readTensor(file, key, r));
                }
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new CheckpointFormatException(file, "unexpected content after the header's JSON object");
            }
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw new CheckpointFormatException(file, "header is not valid JSON: " + gsonMessage(e));
        }
        validateLayout(file, tensors, dataLength);
        return new SafetensorsHeader(Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors));
    }

    private static void readMetadata(Path file, JsonReader r, Map<String, String> out) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new CheckpointFormatException(file, "'__metadata__' must be an object of strings, found " + r.peek());
        }
        r.beginObject();
        while (r.hasNext()) {
            String k = r.nextName();
            if (r.peek() != JsonToken.STRING) {
                throw new CheckpointFormatException(file, "'__metadata__' entry '" + k + "' must be a string, found "
                        + r.peek());
            }
            if (out.put(k, r.nextString()) != null) {
                throw new CheckpointFormatException(file, "duplicate key '" + k + "' in '__metadata__'");
            }
        }
        r.endObject();
    }

    private static TensorInfo readTensor(Path file, String name, JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw new CheckpointFormatException(file, name, "header entry must be an object with dtype, shape and "
                    + "data_offsets, found " + r.peek());
        }
        r.beginObject();
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> seen = new HashSet<>();
        while (r.hasNext()) {
            String field = r.nextName();
            if (!seen.add(field)) {
                throw new CheckpointFormatException(file, name, "duplicate field '" + field + "'");
            }
            switch (field) {
                case "dtype":
                    if (r.peek() != JsonToken.STRING) {
                        throw new CheckpointFormatException(file, name, "'dtype' must be a string, found " + r.peek());
                    }
                    dtypeName = r.nextString();
                    break;
                case "shape":
                    shape = readLongArray(file, name, r, "shape", -1);
                    break;
                case "data_offsets":
                    offsets = readLongArray(file, name, r, "data_offsets", 2);
                    break;
                default:
                    r.skipValue(); // the reference implementation ignores unknown fields too
            }
        }
        r.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw new CheckpointFormatException(file, name, "header entry lacks "
                    + (dtypeName == null ? "'dtype'" : shape == null ? "'shape'" : "'data_offsets'"));
        }
        DType dtype;
        try {
            dtype = DType.fromSafetensors(dtypeName);
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file, name, e.getMessage());
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new CheckpointFormatException(file, name, "data_offsets [" + begin + ", " + end + "] end before begin");
        }
        long numel = 1;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            long bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
            if (bytes != end - begin) {
                throw new CheckpointFormatException(file, name, "shape " + Arrays.toString(shape) + " × " + dtype
                        + " (" + dtype.byteSize() + " bytes) = " + bytes + " bytes but data_offsets [" + begin + ", "
                        + end + "] span " + (end - begin) + " bytes");
            }
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, name, "shape " + Arrays.toString(shape) + " × " + dtype
                    + " overflows 64 bits");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads an array of non-negative integers; {@code exact >= 0} demands that many. */
    private static long[] readLongArray(Path file, String name, JsonReader r, String field, int exact) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw new CheckpointFormatException(file, name, "'" + field + "' must be an array of integers, found " + r.peek());
        }
        r.beginArray();
        long[] values = new long[4];
        int n = 0;
        while (r.hasNext()) {
            if (n >= MAX_RANK || (exact >= 0 && n >= exact)) {
                throw new CheckpointFormatException(file, name, "'" + field + "' has too many entries (max "
                        + (exact >= 0 ? exact : MAX_RANK) + ")");
            }
            if (r.peek() != JsonToken.NUMBER) {
                throw new CheckpointFormatException(file, name, "'" + field + "' must hold integers, found " + r.peek());
            }
            String literal = r.nextString();
            long v;
            if (literal.startsWith("-")) {
                throw new CheckpointFormatException(file, name, "negative value " + literal + " in '" + field + "'");
            }
            if (!literal.matches("[0-9]+")) {
                throw new CheckpointFormatException(file, name, "'" + field + "' value " + literal + " is not an integer");
            }
            try {
                v = Long.parseLong(literal);
            } catch (NumberFormatException e) {
                throw new CheckpointFormatException(file, name, "'" + field + "' value " + literal + " is too large");
            }
            if (n == values.length) {
                values = Arrays.copyOf(values, n * 2);
            }
            values[n++] = v;
        }
        r.endArray();
        if (exact >= 0 && n != exact) {
            throw new CheckpointFormatException(file, name, "'" + field + "' must have " + exact + " entries, found " + n);
        }
        return Arrays.copyOf(values, n);
    }

    private static void validateLayout(Path file, Map<String, TensorInfo> tensors, long dataLength)
            throws CheckpointFormatException {
        List<TensorInfo> byBegin = new ArrayList<>(tensors.values());
        for (TensorInfo t : byBegin) {
            if (t.end() > dataLength) {
                throw new CheckpointFormatException(file, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] run past the end of the data section (" + dataLength + " bytes; file truncated?)");
            }
        }
        byBegin.removeIf(t -> t.byteLength() == 0);
        byBegin.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < byBegin.size(); i++) {
            TensorInfo prev = byBegin.get(i - 1);
            TensorInfo cur = byBegin.get(i);
            if (cur.begin() < prev.end()) {
                throw new CheckpointFormatException(file, cur.name(), "data_offsets [" + cur.begin() + ", " + cur.end()
                        + "] overlap tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + "]");
            }
        }
    }

    /** Gson's message without its advice to be lenient and its troubleshooting link. */
    static String gsonMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        if (nl >= 0) {
            m = m.substring(0, nl);
        }
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "").strip();
        return m.startsWith("at line") ? "syntax error " + m : m;
    }

    private static String preview(String text) {
        String s = text.length() > 40 ? text.substring(0, 40) + "…" : text;
        return "'" + s.replaceAll("\\p{Cntrl}", "?") + "'";
    }
}
