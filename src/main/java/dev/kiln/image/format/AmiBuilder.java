package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.stereotype.Component;

/** {@code ami}: the raw disk, {@code disk.ami}, as AWS's image import takes it. */
@Component
class AmiBuilder extends RawDiskBuilder {
    AmiBuilder(RootTree rootTree) {
        super(rootTree, OutputType.AMI);
    }
}
