package dev.kiln.image.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory a disk made in memory (on tmpfs) will take, touched while the packages install: zeros written where the
 * root file system will be, into the file that becomes the disk. On a VM whose balloon reports free memory to its
 * host, the first touch of a page the host took back waits for the host (measured on this kind of machine: 5-7.5 s
 * a GiB, against 0.35 s for memory in use a moment before), and mke2fs writing a 700 MB root waited for those
 * faults at the end of the build, alone on the critical path. dpkg configures on one core; this runs on another.
 * What mke2fs then writes lands in pages already there; what it does not write stays zeros, which is what a hole
 * reads as, so the disk holds the same bytes (qemu-img finds zeros either way). Stopped, not awaited, when the disk
 * is made before it is done; its file is deleted unless the disk took it.
 */
public final class DiskMemory implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DiskMemory.class);
    private static final int CHUNK = 1 << 20;

    private final Path file;
    private final long from;
    private final long bytes;
    private final Thread thread;
    private volatile boolean stop;
    private volatile long written;
    private volatile boolean taken;

    private final java.util.function.BooleanSupplier when;

    private DiskMemory(Path file, long from, long bytes, java.util.function.BooleanSupplier when) {
        this.file = file;
        this.from = from;
        this.bytes = bytes;
        this.when = when;
        this.thread = new Thread(this::touch, "disk-memory");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    /**
     * Starts writing {@code bytes} of zeros at {@code from} into {@code file} (made new: a file already there is not
     * touched, and nothing is started, nor when its file system has no room for three times as much and a GiB);
     * null when nothing was started.
     */
    public static DiskMemory start(Path file, long from, long bytes) {
        return start(file, from, bytes, () -> true);
    }

    /**
     * As {@link #start(Path, long, long)}, the writing begun once {@code when} says so (asked every 50 ms): when dpkg
     * configures, not while it unpacks, which takes new memory as fast as it can too.
     */
    public static DiskMemory start(Path file, long from, long bytes, java.util.function.BooleanSupplier when) {
        try {
            // room for the tree, the disk and a GiB beside these zeros, or the tree goes elsewhere anyway
            if (bytes <= 0 || Files.exists(file)
                    || Files.getFileStore(file.getParent()).getUsableSpace() < 3 * bytes + (1L << 30)) {
                return null;
            }
        } catch (IOException e) {
            return null;
        }
        DiskMemory m = new DiskMemory(file, from, bytes, when);
        m.thread.start();
        return m;
    }

    /** The first root offset the zeros start at (a disk takes them only when its root starts there). */
    public long from() {
        return from;
    }

    private void touch() {
        try {
            while (!stop && !when.getAsBoolean()) {
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            return;
        }
        if (stop) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocateDirect(CHUNK);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long off = 0; off < bytes && !stop; off += CHUNK) {
                zeros.clear().limit((int) Math.min(CHUNK, bytes - off));
                while (zeros.hasRemaining()) {
                    ch.write(zeros, from + off + zeros.position());
                }
                written = off + zeros.limit();
            }
        } catch (IOException e) {
            log.debug("touching {} stopped: {}", file, e.toString());
        }
    }

    /**
     * Stops the writing (waiting for the mebibyte under way) and gives the file to the caller, who moves it where the
     * disk goes; null when nothing was written.
     */
    public Path take() throws InterruptedException {
        stop = true;
        thread.join();
        if (written == 0 || !Files.exists(file)) {
            return null;
        }
        taken = true;
        return file;
    }

    /** How many bytes were written before {@link #take} (for the log). */
    public long written() {
        return written;
    }

    /** Stops the writing and deletes the file unless a disk took it. */
    @Override
    public void close() throws IOException {
        stop = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!taken) {
            Files.deleteIfExists(file);
        }
    }
}
