package dev.refact.clip.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests (the JDK's), as lower-case hex: fingerprints, identifiers and content checksums. */
public final class Sha256 {
    private Sha256() {
    }

    /**
     * A fresh SHA-256 digest (every JDK has one).
     *
     * @return a new, unshared digest to feed with {@code update}
     */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /**
     * SHA-256 of {@code data} as 64 lower-case hex digits.
     *
     * @param data the bytes to hash
     * @return 64 lower-case hex digits
     */
    public static String hex(byte[] data) {
        return HexFormat.of().formatHex(newDigest().digest(data));
    }

    /**
     * SHA-256 of the UTF-8 bytes of {@code text} as 64 lower-case hex digits.
     *
     * @param text the text to hash, encoded as UTF-8
     * @return 64 lower-case hex digits
     */
    public static String hex(String text) {
        return hex(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * SHA-256 of a file's bytes, streamed.
     *
     * @param file the file
     * @return 64 lower-case hex digits
     * @throws java.io.IOException if the file cannot be read
     */
    public static String ofFile(java.nio.file.Path file) throws java.io.IOException {
        MessageDigest md = newDigest();
        try (java.io.InputStream in = new java.security.DigestInputStream(java.nio.file.Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return hex(md);
    }

    /**
     * The digest's value as 64 lower-case hex digits (completes the digest).
     *
     * @param md a SHA-256 digest (e.g. from {@link #newDigest()}) fed with the data; it is reset afterwards
     * @return 64 lower-case hex digits
     */
    public static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * SHA-256 of float32 values as stored in a safetensors file (little-endian IEEE 754), so that
     * {@code hashlib.sha256(t.numpy().astype('<f4').tobytes()).hexdigest()} gives the same value in Python.
     *
     * @param values the values [n]
     * @return 64 lower-case hex digits
     */
    public static String ofFloats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return hex(b.array());
    }
}
