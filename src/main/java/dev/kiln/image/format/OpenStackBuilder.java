package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** {@code openstack}: {@code disk.qcow2} with cloud-init (from its template) for Glance. */
@Component
class OpenStackBuilder extends Qcow2BasedBuilder {
    OpenStackBuilder(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
        super(rootTree, OutputType.OPENSTACK, compress);
    }
}
