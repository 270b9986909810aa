package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.nio.file.Path;
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
        if (compress) {
            cmd.add("-c");
        }
        cmd.addAll(List.of(disk.file().toString(), image.toString()));
        request.tools().run(request.scratch(), cmd);
    }
}
