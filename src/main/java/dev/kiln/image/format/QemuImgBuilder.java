package dev.kiln.image.format;

import com.sun.nio.file.ExtendedOpenOption;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** A type whose file is the raw disk converted by {@code qemu-img} to a format, with its options. */
abstract class QemuImgBuilder extends DiskBuilder {

    private final String format;
    private final String options;
    private final boolean compress;

    QemuImgBuilder(RootTree rootTree, OutputType type, String format, String options, boolean compress) {
        super(rootTree, type);
        this.format = format;
        this.options = options;
        this.compress = compress;
    }

    @Override
    void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-f", "raw", "-O", format, "-o", options));
        if (direct(image.getParent())) {
            // around the page cache (O_DIRECT): the 780 MB qcow2 of the example blueprint took 2.6-4.7 s through
            // it here (as much system time), 0.5 s around it; the writes stay in order, so the bytes are the same
            cmd.addAll(List.of("-t", "none"));
        }
        if (compress) {
            cmd.add("-c");
        }
        cmd.addAll(List.of(disk.file().toString(), image.toString()));
        request.tools().run(request.scratch(), cmd);
    }

    /** Whether files in {@code dir} can be written around the page cache (O_DIRECT; some file systems refuse it). */
    static boolean direct(Path dir) {
        Path probe = dir.resolve(".direct-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
        try (FileChannel c = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // the scratch directory goes with the compose
            }
        }
    }
}
