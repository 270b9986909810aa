package dev.kiln.image.format;

import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/** {@code alibaba}: {@code disk.qcow2} with cloud-init (from its template), as AlibabaBuilder Cloud imports it. */
@Component
class AlibabaBuilder extends Qcow2BasedBuilder {
    AlibabaBuilder(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
        super(rootTree, OutputType.ALIBABA, compress);
    }
}
