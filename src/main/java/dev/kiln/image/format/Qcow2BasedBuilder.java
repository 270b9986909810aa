package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;

/** The qcow2 types: compat 1.1, compressed when {@code kiln.image.qcow2-compress} says so. */
abstract class Qcow2BasedBuilder extends QemuImgBuilder {

    Qcow2BasedBuilder(RootTree rootTree, OutputType type, boolean compress) {
        super(rootTree, type, "qcow2", "compat=1.1", compress);
    }
}
