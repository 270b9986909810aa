package dev.kiln.image;

import dev.kiln.image.tree.Tree;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.image.tree.RootTree;
import java.nio.file.Path;

/**
 * An output type made from an installed, customized root tree: the tree is built, its SBOM written ({@link Sbom}),
 * the tree handed to {@link #image}, and released whatever happens.
 */
public abstract class TreeImageBuilder implements ImageBuilder {

    private final RootTree rootTree;

    public TreeImageBuilder(RootTree rootTree) {
        this.rootTree = rootTree;
    }

    @Override
    public final Path build(BuildRequest request) throws Exception {
        Tree tree = rootTree.build(request.results(), request.tools());
        try {
            request.tools().progress().phase("sbom");
            Sbom.write(request.results(), type(), tree.dir(), tree.sourceDateEpoch());
            if (!tree.disk().mountPoints().isEmpty() && !partitioned()) {
                request.tools().note("filesystem: " + type().id() + " holds one tree; the mount points "
                        + String.join(", ", new java.util.TreeSet<>(tree.disk().mountPoints()))
                        + " get file systems of their own on disk types only");
            }
            return image(request, tree);
        } finally {
            TreePlaces.release(tree.dir());
            tree.sandbox().releaseWork(request.results().uuid());
        }
    }

    /** Whether the type is a disk with a file system per mount point (else it holds the tree as one). */
    protected boolean partitioned() {
        return false;
    }

    /** Makes the image from the tree into the compose's scratch directory; answers its path. */
    protected abstract Path image(BuildRequest request, Tree tree) throws Exception;
}
