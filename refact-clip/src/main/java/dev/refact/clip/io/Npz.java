package dev.refact.clip.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A NumPy {@code .npz} archive: a zip (stored or deflated, zip64 allowed) of {@code .npy}
 * entries, as written by {@code numpy.savez} / {@code savez_compressed}. ROME and ReFACT keep their
 * covariance statistics this way ({@code mom2.mom2} [d, d], {@code mom2.count} scalar, plus string
 * entries such as {@code mom2.constructor} that are listed but not numeric).
 *
 * <p>Entries are read lazily by {@link #get}; each read is bounded by the entry's size and by the
 * bytes actually present, so a lying header cannot cause a huge allocation.
 */
public final class Npz implements AutoCloseable {
    private final Path path;
    private final ZipFile zip;
    private final Map<String, ZipEntry> entries;

    private Npz(Path path, ZipFile zip, Map<String, ZipEntry> entries) {
        this.path = path;
        this.zip = zip;
        this.entries = entries;
    }

    /**
     * Opens an archive and lists its arrays.
     *
     * @param path the {@code .npz} file
     * @return the open archive; the caller must close it
     * @throws CheckpointFormatException naming the file if it is not a readable zip or has duplicate entries
     * @throws IOException               if the file does not exist or cannot be read
     */
    public static Npz open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new CheckpointFormatException(path, "not a valid NPZ (zip) archive: " + e.getMessage(), e);
        }
        try {
            Map<String, ZipEntry> entries = new LinkedHashMap<>();
            var it = zip.entries();
            while (it.hasMoreElements()) {
                ZipEntry e = it.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String n = e.getName();
                String key = n.endsWith(".npy") ? n.substring(0, n.length() - 4) : n;
                if (entries.put(key, e) != null) {
                    throw new CheckpointFormatException(path, key, "duplicate entry in NPZ archive");
                }
            }
            return new Npz(path, zip, Collections.unmodifiableMap(entries));
        } catch (IOException | RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    /**
     * The archive's path.
     *
     * @return the path given to {@link #open}
     */
    public Path path() {
        return path;
    }

    /**
     * Array names (entry names without {@code .npy}) in archive order.
     *
     * @return a new, modifiable list of the names
     */
    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }

    /**
     * Whether the archive has an array of this name.
     *
     * @param name an array name, without {@code .npy}
     * @return true if {@link #get} can read it (even if it is not numeric)
     */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * Reads one array.
     *
     * @param name the array name, without {@code .npy} (one of {@link #names()})
     * @return the whole array on the Java heap, little-endian and in C order
     * @throws IllegalArgumentException  if there is no such array (the message lists the names)
     * @throws CheckpointFormatException if the entry is malformed, unsupported or an object array
     * @throws IllegalStateException     after {@link #close()}
     */
    public NpyArray get(String name) throws IOException {
        ZipEntry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(path + ": no array '" + name + "' (closest: "
                    + SafetensorsFile.closestNames(name, entries.keySet(), 3) + ")");
        }
        long size = e.getSize() >= 0 ? e.getSize() : Long.MAX_VALUE;
        try (InputStream in = zip.getInputStream(e)) {
            return Npy.read(path, name, in, size);
        } catch (ZipException ex) {
            throw new CheckpointFormatException(path, name, "corrupt zip entry: " + ex.getMessage());
        } catch (IllegalStateException ex) {
            throw new IllegalStateException(path + " is closed", ex);
        } catch (java.io.EOFException ex) {
            throw new CheckpointFormatException(path, name, "zip entry ends early (truncated archive)");
        }
    }

    /** Closes the archive; later {@link #get} calls throw {@link IllegalStateException}. */
    @Override
    public void close() throws IOException {
        zip.close();
    }

    @Override
    public String toString() {
        return "Npz[" + path + ", " + entries.size() + " arrays]";
    }
}
