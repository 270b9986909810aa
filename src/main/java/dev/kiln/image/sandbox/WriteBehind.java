package dev.kiln.image.sandbox;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import dev.kiln.store.FileTrees;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a file a tool is writing (an image) out of the page cache while it is written: every 50 ms what it wrote is
 * sent to the disk (not awaited) and the pages the disk has already taken are let go, so the tool's next writes land
 * in the pages it wrote a moment before instead of in new ones. Nothing is lost: only clean pages are dropped, and
 * the tool's own fsync still decides when the file is on the disk.
 *
 * <p>Why: on this kind of VM a new page of page cache for a file on its ext4 disk is dear, and pages reused are
 * not. Measured (2026-12-05): 50 / 100 / 200 / 400 MB written into a new file took 0.36 / 0.67 / 1.30 / 2.35 s (its
 * fsync 0.1 s more), 200 MB over the same file's cached pages 0.015 s, 400 MB into tmpfs 0.15 s; 300 MB with this
 * beside the writer 0.21-0.23 s. mke2fs writing a 300 MB image took 0.75 s or 1.8-2.8 s depending on what the page
 * cache held before (stop 37 blamed the balloon's free page reporting; tmpfs and anonymous memory do not show the
 * cost, so the cause is the kernel's page cache here, not measured further). On any machine an image no one reads
 * now does not push out the cache of what is read (the packages, the trees). Files on tmpfs are their own memory:
 * nothing to do there.
 */
public final class WriteBehind implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WriteBehind.class);
    private static final int O_RDONLY = 0;
    private static final int O_NONBLOCK = 04000; // the same on x86-64 and arm64: a FIFO put there does not block
    private static final int O_CLOEXEC = 02000000;
    private static final int SYNC_FILE_RANGE_WRITE = 2;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final long TICK_MS = 50;
    private static final boolean NATIVE = register();

    private final Path file;
    private final Thread thread;
    private int fd = -1;

    private static boolean register() {
        try {
            Native.register(WriteBehind.class, NativeLibrary.getInstance("c"));
            return true;
        } catch (Throwable e) { // no libc to bind (not Linux, no JNA native part): files are written as before
            log.info("images are written through the page cache: {}", e.toString());
            return false;
        }
    }

    private static native int open(String path, int flags);

    private static native int sync_file_range(int fd, long offset, long nbytes, int flags);

    private static native int posix_fadvise(int fd, long offset, long len, int advice);

    private static native int close(int fd);

    private WriteBehind(Path file) {
        this.file = file;
        this.thread = new Thread(this::run, "write-behind");
        thread.setDaemon(true);
    }

    /**
     * Starts keeping {@code file} (made or about to be made by a tool) out of the page cache until {@link #close};
     * null when there is nothing to do: no native binding, or the file is in memory (tmpfs) already.
     */
    public static WriteBehind start(Path file) {
        if (!NATIVE) {
            return null;
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || FileTrees.onTmpfs(dir)) {
            return null;
        }
        WriteBehind w = new WriteBehind(file);
        w.thread.start();
        return w;
    }

    /** Whether the page cache can be dropped behind a writer here (for tests and the log). */
    public static boolean available() {
        return NATIVE;
    }

    private void run() {
        try {
            while (true) { // until close() interrupts it (in its sleep, or before the next)
                Thread.sleep(TICK_MS);
                pass();
            }
        } catch (InterruptedException e) {
            // closed
        } finally {
            if (fd >= 0) {
                close(fd);
            }
        }
    }

    /**
     * Sends the file's dirty pages to the disk without waiting, then drops its clean pages (those written in an
     * earlier pass and on the disk since); pages still dirty or in flight stay.
     */
    private void pass() {
        if (fd < 0) {
            // a regular file only; a tool that swapped in a link or a FIFO gets nothing done to it
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            fd = open(file.toString(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                return;
            }
        }
        sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    }

    /** Stops (after the pass under way); the file keeps what the tool wrote, its last pages maybe still cached. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
