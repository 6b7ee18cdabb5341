package dev.refact.core.stats;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A second process for {@link StatisticsCacheTest}: holds an OS lock on a file for a while, then exits. */
final class LockHolder {
    private LockHolder() {
    }

    /**
     * Entry point.
     *
     * @param args the lock file, then how long to hold the lock in milliseconds
     */
    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.lock()) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.parseLong(args[1]));
        }
    }
}
