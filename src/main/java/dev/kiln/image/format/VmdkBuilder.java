package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.nio.file.Path;
import org.springframework.stereotype.Component;

/** {@code vmdk}: a streamOptimized {@code disk.vmdk} with an LSI Logic adapter, what vSphere imports. */
@Component
class VmdkBuilder extends QemuImgBuilder {
    VmdkBuilder(RootTree rootTree) {
        super(rootTree, OutputType.VMDK, "vmdk", "subformat=streamOptimized,adapter_type=lsilogic", false);
    }

    @Override
    void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
        super.wrap(request, disk, image);
        FormatStamps.vmdkCid(image, FormatStamps.cidOf(DiskImage.derive(disk.rootFs(), "vmdk-cid")));
    }
}
