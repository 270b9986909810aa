package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.nio.file.Path;

/** The qcow2 types: compat 1.1, compressed when {@code kiln.image.qcow2-compress} says so. */
abstract class Qcow2BasedBuilder extends DiskBuilder {
    private final boolean compress;

    Qcow2BasedBuilder(RootTree rootTree, OutputType type, boolean compress) {
        super(rootTree, type);
        this.compress = compress;
    }

    @Override
    void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
        qemuImg(request, disk, image, "qcow2", "compat=1.1", compress);
    }
}
