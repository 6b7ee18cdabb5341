package dev.refact.clip.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader of NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Layout: magic {@code \x93NUMPY}, major and minor version bytes, header length (u16 LE in
 * v1, u32 LE in v2/v3), a Python dict literal
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }} (latin-1, UTF-8 in v3), then
 * the raw elements. Supported {@code descr}: {@code f2 f4 f8 i1 i2 i4 i8 u1 b1} in either byte
 * order; Fortran-order arrays are reordered to C order. Object arrays ({@code |O}) would need
 * pickle and are refused. Sizes are checked against the bytes actually present before anything
 * is allocated.
 */
public final class Npy {
    /** numpy itself refuses headers longer than 10 000 bytes by default; allow 10× that. */
    static final int MAX_HEADER_BYTES = 100_000;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    private Npy() {
    }

    /**
     * Reads one {@code .npy} file; the array is named after the file without {@code .npy}.
     *
     * @param file the {@code .npy} file
     * @return the whole array on the Java heap, little-endian and in C order
     * @throws CheckpointFormatException naming the file if it is malformed, truncated or unsupported
     * @throws IOException               if the file does not exist or cannot be read
     */
    public static NpyArray read(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (name.endsWith(".npy")) {
            name = name.substring(0, name.length() - 4);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return read(file, name, in, Files.size(file));
        }
    }

    /**
     * Reads an NPY stream of at most {@code available} bytes (the file or NPZ entry size).
     *
     * @param file for messages (the file, or the NPZ archive)
     * @param name the array's name, for messages and the result
     */
    static NpyArray read(Path file, String name, InputStream in, long available) throws IOException {
        byte[] pre = readExactly(file, name, in, 8, "magic and version");
        if (!Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new CheckpointFormatException(file, name, "not an NPY array (bad magic)");
        }
        int major = pre[6] & 0xFF;
        int minor = pre[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw new CheckpointFormatException(file, name, "unsupported NPY format version " + major + "." + minor);
        }
        int lenBytes = major == 1 ? 2 : 4;
        ByteBuffer lb = ByteBuffer.wrap(readExactly(file, name, in, lenBytes, "header length")).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = major == 1 ? lb.getShort() & 0xFFFF : lb.getInt() & 0xFFFFFFFFL;
        long preamble = 8 + lenBytes;
        if (headerLen > MAX_HEADER_BYTES || headerLen > available - preamble) {
            throw new CheckpointFormatException(file, name, "NPY header length " + headerLen + " exceeds "
                    + (headerLen > MAX_HEADER_BYTES ? "the limit of " + MAX_HEADER_BYTES : "the "
                    + Math.max(0, available - preamble) + " bytes present (truncated?)"));
        }
        byte[] hb = readExactly(file, name, in, (int) headerLen, "header");
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = parseHeaderDict(file, name, header);

        Object descrObj = dict.get("descr");
        Object fortranObj = dict.get("fortran_order");
        Object shapeObj = dict.get("shape");
        if (!(descrObj instanceof String descr)) {
            throw new CheckpointFormatException(file, name, "NPY header 'descr' must be a simple type string, found "
                    + describe(descrObj) + " (structured arrays are not supported)");
        }
        if (!(fortranObj instanceof Boolean fortran)) {
            throw new CheckpointFormatException(file, name, "NPY header 'fortran_order' must be True or False, found "
                    + describe(fortranObj));
        }
        if (!(shapeObj instanceof List<?> shapeList)) {
            throw new CheckpointFormatException(file, name, "NPY header 'shape' must be a tuple of integers, found "
                    + describe(shapeObj));
        }
        long[] shape = new long[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0) {
                throw new CheckpointFormatException(file, name, "NPY shape " + shapeList + " must hold non-negative integers");
            }
            shape[i] = d;
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw new CheckpointFormatException(file, name, "NPY shape " + shapeList + " overflows");
            }
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        DType dtype = parseDescr(file, name, descr);
        if (descr.charAt(0) == '>') {
            order = ByteOrder.BIG_ENDIAN;
        } else if (descr.charAt(0) == '=') {
            order = ByteOrder.nativeOrder();
        }
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, name, "NPY shape " + Arrays.toString(shape) + " × " + descr
                    + " overflows");
        }
        long present = available - preamble - headerLen;
        if (nbytes > present) {
            throw new CheckpointFormatException(file, name, "NPY data needs " + nbytes + " bytes for shape "
                    + Arrays.toString(shape) + " of " + descr + " but only " + present + " bytes follow the header "
                    + "(truncated?)");
        }
        if (nbytes > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file, name, "NPY array of " + nbytes + " bytes is too large to read "
                    + "into memory (limit 2 GB)");
        }
        byte[] raw = in.readNBytes((int) nbytes); // grows as data arrives; never trusts the header
        if (raw.length != nbytes) {
            throw new CheckpointFormatException(file, name, "NPY data truncated: expected " + nbytes + " bytes, found "
                    + raw.length);
        }
        if (order != ByteOrder.LITTLE_ENDIAN && dtype.byteSize() > 1) {
            swapBytes(raw, dtype.byteSize());
        }
        if (fortran && shape.length > 1) {
            raw = fortranToC(raw, shape, dtype.byteSize());
        }
        return new NpyArray(name, dtype, shape, ByteBuffer.wrap(raw));
    }

    private static DType parseDescr(Path file, String name, String descr) throws CheckpointFormatException {
        if (descr.length() < 2) {
            throw new CheckpointFormatException(file, name, "unsupported NPY dtype '" + descr + "'");
        }
        char bo = descr.charAt(0);
        String code = "<>|=".indexOf(bo) >= 0 ? descr.substring(1) : descr;
        if (code.startsWith("O")) {
            throw new CheckpointFormatException(file, name, "NPY object array ('" + descr + "') refused: reading it "
                    + "would need pickle, which can execute arbitrary code; store numeric arrays only");
        }
        switch (code) {
            case "f2": return DType.F16;
            case "f4": return DType.F32;
            case "f8": return DType.F64;
            case "i1": return DType.I8;
            case "i2": return DType.I16;
            case "i4": return DType.I32;
            case "i8": return DType.I64;
            case "u1": return DType.U8;
            case "b1": return DType.BOOL;
            default:
                throw new CheckpointFormatException(file, name, "unsupported NPY dtype '" + descr
                        + "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 b1, little- or big-endian)");
        }
    }

    private static void swapBytes(byte[] raw, int size) {
        for (int i = 0; i < raw.length; i += size) {
            for (int a = i, b = i + size - 1; a < b; a++, b--) {
                byte t = raw[a];
                raw[a] = raw[b];
                raw[b] = t;
            }
        }
    }

    /** Reorders elements stored column-major (first index fastest) into row-major order. */
    static byte[] fortranToC(byte[] raw, long[] shape, int size) {
        int nd = shape.length;
        long[] fStride = new long[nd];
        long s = 1;
        for (int k = 0; k < nd; k++) {
            fStride[k] = s;
            s *= shape[k];
        }
        long numel = s;
        byte[] out = new byte[raw.length];
        long[] idx = new long[nd];
        long fOff = 0;
        for (long c = 0; c < numel; c++) {
            System.arraycopy(raw, (int) (fOff * size), out, (int) (c * size), size);
            for (int k = nd - 1; k >= 0; k--) {
                idx[k]++;
                fOff += fStride[k];
                if (idx[k] < shape[k]) {
                    break;
                }
                fOff -= fStride[k] * shape[k];
                idx[k] = 0;
            }
        }
        return out;
    }

    private static byte[] readExactly(Path file, String name, InputStream in, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new CheckpointFormatException(file, name, "NPY data ends inside the " + what + " (truncated)");
        }
        return b;
    }

    private static String describe(Object o) {
        return o == null ? "nothing" : o instanceof String s ? "'" + s + "'" : String.valueOf(o);
    }

    // ---- the Python literal subset numpy writes: dict of str → str | bool | tuple of ints

    private static Map<String, Object> parseHeaderDict(Path file, String name, String header)
            throws CheckpointFormatException {
        PyLiteral p = new PyLiteral(header);
        try {
            Object v = p.value();
            p.skipSpace();
            if (!p.atEnd()) {
                throw p.error("unexpected text after the header dict");
            }
            if (!(v instanceof Map<?, ?> m)) {
                throw p.error("header is not a dict");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> dict = (Map<String, Object>) m;
            return dict;
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file, name, "malformed NPY header: " + e.getMessage() + " in "
                    + preview(header));
        }
    }

    private static String preview(String s) {
        String t = s.strip();
        return "'" + (t.length() > 80 ? t.substring(0, 80) + "…" : t) + "'";
    }

    /** Recursive-descent parser of the Python literals numpy writes. Depth-limited. */
    private static final class PyLiteral {
        private static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };
        private final String s;
        private int i;
        private int depth;

        PyLiteral(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return i >= s.length();
        }

        void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at character " + i);
        }

        Object value() {
            skipSpace();
            if (atEnd()) {
                throw error("unexpected end");
            }
            if (++depth > 8) {
                throw error("nesting too deep");
            }
            try {
                char c = s.charAt(i);
                if (c == '{') {
                    return dict();
                } else if (c == '(' || c == '[') {
                    return sequence(c == '(' ? ')' : ']');
                } else if (c == '\'' || c == '"') {
                    return string();
                } else if (c == '-' || Character.isDigit(c)) {
                    return integer();
                } else if (s.startsWith("True", i)) {
                    i += 4;
                    return Boolean.TRUE;
                } else if (s.startsWith("False", i)) {
                    i += 5;
                    return Boolean.FALSE;
                } else if (s.startsWith("None", i)) {
                    i += 4;
                    return NONE;
                }
                throw error("unexpected '" + c + "'");
            } finally {
                depth--;
            }
        }

        private Map<String, Object> dict() {
            i++; // {
            Map<String, Object> m = new LinkedHashMap<>();
            while (true) {
                skipSpace();
                if (peek('}')) {
                    i++;
                    return m;
                }
                Object k = value();
                if (!(k instanceof String key)) {
                    throw error("dict key must be a string");
                }
                skipSpace();
                expect(':');
                Object v = value();
                if (m.put(key, v) != null) {
                    throw error("duplicate key '" + key + "'");
                }
                skipSpace();
                if (peek(',')) {
                    i++;
                } else if (!peek('}')) {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> sequence(char close) {
            i++;
            List<Object> out = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek(close)) {
                    i++;
                    return out;
                }
                if (out.size() >= 64) {
                    throw error("too many elements");
                }
                out.add(value());
                skipSpace();
                if (peek(',')) {
                    i++;
                } else if (!peek(close)) {
                    throw error("expected ',' or '" + close + "'");
                }
            }
        }

        private String string() {
            char q = s.charAt(i++);
            StringBuilder b = new StringBuilder();
            while (i < s.length() && s.charAt(i) != q) {
                char c = s.charAt(i++);
                if (c == '\\' && i < s.length()) {
                    c = s.charAt(i++);
                }
                b.append(c);
            }
            if (atEnd()) {
                throw error("unterminated string");
            }
            i++;
            return b.toString();
        }

        private Long integer() {
            int start = i;
            if (s.charAt(i) == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            String digits = s.substring(start, i);
            if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) {
                i++; // Python 2 long suffix
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("bad integer '" + digits + "'");
            }
        }

        private boolean peek(char c) {
            return i < s.length() && s.charAt(i) == c;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
            i++;
        }
    }
}
