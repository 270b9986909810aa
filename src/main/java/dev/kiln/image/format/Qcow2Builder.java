package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** {@code qcow2}: {@code disk.qcow2} for QEMU/KVM. */
@Component
class Qcow2Builder extends Qcow2BasedBuilder {
    Qcow2Builder(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
        super(rootTree, OutputType.QCOW2, compress);
    }
}
