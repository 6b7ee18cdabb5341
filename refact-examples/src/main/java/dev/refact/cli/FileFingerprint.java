package dev.refact.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.List;
import java.util.stream.Stream;

/**
 * A cheap identity of a model folder for results-file configurations: SHA-256 over every regular file's
 * relative name and size, its first MiB (configs whole, safetensors headers) and 64 evenly spaced 4 KiB blocks
 * (weights). Two different checkpoints of one architecture differ in the sampled blocks; reading gigabytes is
 * avoided.
 */
final class FileFingerprint {
    private static final int HEAD = 1 << 20;
    private static final int BLOCK = 4096;
    private static final int BLOCKS = 64;

    private FileFingerprint() {
    }

    /** The fingerprint of a file or a folder (recursively, sorted by relative path). */
    static String of(Path root) throws IOException {
        MessageDigest md = dev.refact.clip.io.Sha256.newDigest();
        List<Path> files;
        if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
        } else {
            files = List.of(root);
        }
        for (Path f : files) {
            String name = Files.isDirectory(root) ? root.relativize(f).toString().replace('\\', '/') : "";
            long size = Files.size(f);
            md.update((name + "\n" + size + "\n").getBytes(StandardCharsets.UTF_8));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                read(ch, 0, (int) Math.min(HEAD, size), md);
                if (size > HEAD) {
                    for (int i = 0; i < BLOCKS; i++) {
                        long at = HEAD + (size - HEAD - BLOCK) * i / Math.max(1, BLOCKS - 1);
                        read(ch, Math.max(HEAD, at), (int) Math.min(BLOCK, size - Math.max(HEAD, at)), md);
                    }
                }
            }
        }
        return dev.refact.clip.io.Sha256.hex(md);
    }

    private static void read(FileChannel ch, long at, int n, MessageDigest md) throws IOException {
        if (n <= 0) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                break;
            }
        }
        b.flip();
        md.update(b);
    }
}
