package dev.kiln.image.format;

import dev.kiln.image.tree.Tree;
import dev.kiln.image.TreeImageBuilder;
import dev.kiln.image.disk.Ext4FileSystem;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.nio.file.Path;
import org.springframework.stereotype.Component;

/**
 * {@code ext4-filesystem}: the root tree as {@code filesystem.img} ({@link Ext4FileSystem}), sized from the tree
 * plus headroom or from the compose's size.
 */
@Component
public class Ext4Builder extends TreeImageBuilder {

    Ext4Builder(RootTree rootTree) {
        super(rootTree);
    }

    @Override
    public OutputType type() {
        return OutputType.EXT4_FILESYSTEM;
    }

    @Override
    protected Path image(BuildRequest request, Tree tree) throws Exception {
        long size = Math.max(Math.max(request.sizeBytes(), tree.disk().rootSize()), Ext4FileSystem.minimumSize(tree));
        Path image = request.scratch().resolve(type().imageName());
        request.tools().progress().phase("mkfs");
        Ext4FileSystem.make(request.tools(), request.scratch(), request.results().uuid(), tree, image, size);
        return image;
    }
}
