package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.stereotype.Component;

/** {@code partitioned-disk}: the raw disk itself, {@code disk.img}. */
@Component
class PartitionedDiskBuilder extends RawDiskBuilder {
    PartitionedDiskBuilder(RootTree rootTree) {
        super(rootTree, OutputType.PARTITIONED_DISK);
    }
}
