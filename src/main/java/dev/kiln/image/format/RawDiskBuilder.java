package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A type whose file is the raw disk itself, renamed. */
abstract class RawDiskBuilder extends DiskBuilder {

    RawDiskBuilder(RootTree rootTree, OutputType type) {
        super(rootTree, type);
    }

    @Override
    final boolean readsRaw() {
        return false; // the raw disk is the image: made where results/ is, renamed into it
    }

    @Override
    final void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws IOException {
        Files.move(disk.file(), image, StandardCopyOption.REPLACE_EXISTING);
    }
}
