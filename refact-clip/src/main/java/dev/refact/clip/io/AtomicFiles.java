package dev.refact.clip.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.DosFileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one way refact writes a file: a temporary file in the target's directory, flushed to disk, given normal
 * permissions ({@code rw-r--r--}, or the replaced file's), then renamed over the target. A failed write leaves
 * the target as it was and removes the temporary file; error messages name the target, never the temporary
 * file. A read-only target is refused, not replaced ({@link #checkWritable}).
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the body of a file to a stream (the stream is closed by {@link AtomicFiles}). */
    @FunctionalInterface
    public interface Body {
        /**
         * Writes the file's bytes.
         *
         * @param out the temporary file's stream; do not close it
         * @throws IOException if writing fails
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes a channel-oriented body (for large files written with positional or direct buffers). */
    @FunctionalInterface
    public interface ChannelBody {
        /**
         * Writes the file's bytes.
         *
         * @param ch the temporary file's channel, positioned at 0; do not close it
         * @throws IOException if writing fails
         */
        void writeTo(FileChannel ch) throws IOException;
    }

    /**
     * Writes {@code text} as UTF-8, atomically.
     *
     * @param target the file to create or replace
     * @param text   the whole new content, encoded as UTF-8 (no BOM)
     * @throws IOException naming {@code target} if its folder does not exist or is not writable
     */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Writes {@code bytes}, atomically.
     *
     * @param target the file to create or replace
     * @param bytes  the whole new content
     * @throws IOException naming {@code target} (never the temporary file) if anything fails; the target is then
     *                     unchanged
     */
    public static void writeBytes(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /**
     * Writes the file through a stream, atomically.
     *
     * @param target the file to create or replace
     * @param body   writes the whole new content to a buffered stream of the temporary file
     * @throws IOException naming {@code target} (never the temporary file) if anything fails, including an
     *                     {@code IOException} thrown by {@code body}; the target is then unchanged
     */
    public static void write(Path target, Body body) throws IOException {
        writeChannel(target, ch -> {
            java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16) {
                @Override
                public void close() throws IOException {
                    flush(); // the channel is closed by writeChannel
                }
            };
            body.writeTo(out);
            out.flush();
        });
    }

    /**
     * Writes the file through a channel, atomically.
     *
     * @param target the file to create or replace
     * @param body   writes the whole new content to the temporary file's channel; it is then forced to disk
     * @throws IOException naming {@code target} (never the temporary file) if anything fails; the target is then
     *                     unchanged
     */
    public static void writeChannel(Path target, ChannelBody body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = checkWritable(target);
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": " + FileErrors.reason(e, dir), e);
        }
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.writeTo(ch);
                ch.force(true);
            }
            setPermissions(tmp, abs);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (FileSystemException e) {
            // messages of FileSystemException carry the temporary file's name: report the target instead
            throw new IOException("cannot write " + target + ": " + FileErrors.reason(e, abs), e);
        } catch (IOException e) {
            String m = e.getMessage();
            if (m != null && m.contains(tmp.getFileName().toString())) {
                throw new IOException("cannot write " + target + ": " + m.replace(tmp.toString(), target.toString())
                        .replace(tmp.getFileName().toString(), target.getFileName().toString()), e);
            }
            throw e;
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write already failed; report that
                }
            }
        }
    }

    /**
     * Checks, before a long computation, that {@code target} can be written: its folder exists and is writable,
     * the target itself is not a folder, and an existing target is not read-only. Returns the absolute folder.
     *
     * <p>A read-only file (no write permission bit for anyone, the DOS read-only attribute, or not writable by
     * this process) is refused even though the rename that replaces it would succeed on POSIX (it needs only the
     * folder's permission): making a file read-only is how users protect a checkpoint, a plain write would be
     * refused too, and Windows refuses the rename anyway. {@link #write} and {@link #writeChannel} make the same
     * check.
     *
     * @param target the file that is going to be written
     * @return the absolute path of {@code target}'s folder
     * @throws IOException a one-line message naming {@code target} and the problem
     */
    public static Path checkWritable(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null) {
            throw new IOException("cannot write " + target + ": it is a file-system root");
        }
        if (Files.isDirectory(abs)) {
            throw new IOException("cannot write " + target + ": it is a directory");
        }
        if (!Files.exists(dir)) {
            throw new IOException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("cannot write " + target + ": " + dir + " is not a directory");
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("cannot write " + target + ": permission denied on directory " + dir);
        }
        if (Files.isRegularFile(abs) && isReadOnly(abs)) {
            throw new IOException("cannot write " + target + ": the file is read-only; make it writable or choose "
                    + "another file");
        }
        return dir;
    }

    /**
     * Whether an existing file is marked read-only: no write permission for anyone (POSIX), the DOS read-only
     * attribute, or not writable by this process. Checked on the permission bits too because root may write
     * anything, and a rename would replace the file whatever its bits.
     */
    private static boolean isReadOnly(Path file) {
        if (!Files.isWritable(file)) {
            return true;
        }
        try {
            PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
            if (posix != null) {
                Set<PosixFilePermission> p = posix.readAttributes().permissions();
                return !p.contains(PosixFilePermission.OWNER_WRITE) && !p.contains(PosixFilePermission.GROUP_WRITE)
                        && !p.contains(PosixFilePermission.OTHERS_WRITE);
            }
            DosFileAttributeView dos = Files.getFileAttributeView(file, DosFileAttributeView.class);
            return dos != null && dos.readAttributes().isReadOnly();
        } catch (IOException e) {
            return false; // the write itself reports what is wrong
        }
    }

    /**
     * Checks, before a long computation, that {@code dir} is (or can be created as) a writable folder: the
     * nearest existing ancestor must be a writable folder.
     *
     * @param dir the folder that is going to be written into (created by the caller if missing)
     * @throws IOException a one-line message naming {@code dir} and the problem
     */
    public static void checkWritableDirectory(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) {
                throw new IOException("cannot write into " + dir + ": it is a file, not a directory");
            }
            if (!Files.isWritable(abs)) {
                throw new IOException("cannot write into " + dir + ": permission denied");
            }
            return;
        }
        Path p = abs.getParent();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null || !Files.isDirectory(p)) {
            throw new IOException("cannot create " + dir + ": " + (p == null ? "no existing parent" : p
                    + " is a file, not a directory"));
        }
        if (!Files.isWritable(p)) {
            throw new IOException("cannot create " + dir + ": permission denied on " + p);
        }
    }

    /**
     * Checks, before a long computation, that {@code target} can be written once its folder is created (by the
     * caller): {@link #checkWritable} if the folder exists, else {@link #checkWritableDirectory} of the folder.
     *
     * @param target the file that is going to be written
     * @throws IOException a one-line message naming {@code target} and the problem
     */
    public static void checkCanCreate(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (dir != null && !Files.exists(dir)) {
            checkWritableDirectory(dir);
            return;
        }
        checkWritable(target);
    }

    /** Permissions of a newly written file: those of the file it replaces, or {@code rw-r--r--}. */
    private static void setPermissions(Path tmp, Path target) {
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        if (view == null) {
            return;
        }
        try {
            if (Files.exists(target)) {
                view.setPermissions(Files.getPosixFilePermissions(target));
            } else {
                view.setPermissions(PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (IOException | UnsupportedOperationException e) {
            // keep the temporary file's permissions; not worth failing the write
        }
    }
}
