package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.file.Path;
import org.springframework.stereotype.Component;

/**
 * {@code vhd}: a fixed VHD, {@code disk.vhd}, whose virtual size is the raw disk's exactly (a whole number of
 * MiB, as Azure requires; {@code force_size} stops qemu-img rounding it to a CHS geometry).
 */
@Component
class VhdBuilder extends QemuImgBuilder {
    VhdBuilder(RootTree rootTree) {
        super(rootTree, OutputType.VHD, "vpc", "subformat=fixed,force_size=on", false);
    }

    @Override
    void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
        if (disk.size() % DiskImage.MIB != 0) {
            throw new IOException("a VHD for Azure must be a whole number of MiB");
        }
        super.wrap(request, disk, image);
        FormatStamps.vhdFooter(image, disk.sourceDateEpoch(), DiskImage.derive(disk.rootFs(), "vhd-id"));
    }
}
