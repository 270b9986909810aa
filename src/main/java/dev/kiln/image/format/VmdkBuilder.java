package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.stereotype.Component;

/** {@code vmdk}: a streamOptimized {@code disk.vmdk} with an LSI Logic adapter, what vSphere imports. */
@Component
class VmdkBuilder extends QemuImgBuilder {
    VmdkBuilder(RootTree rootTree) {
        super(rootTree, OutputType.VMDK, "vmdk", "subformat=streamOptimized,adapter_type=lsilogic", false);
    }
}
