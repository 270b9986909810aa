package dev.kiln.image;

import dev.kiln.image.tree.Tree;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.image.tree.RootTree;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * An output type made from an installed, customized root tree: the tree is built, handed to {@link #image} while its
 * SBOM is written ({@link Sbom}; before, for a disk whose mount points take parts of the tree aside), and released
 * whatever happens.
 */
public abstract class TreeImageBuilder implements ImageBuilder {

    protected final RootTree rootTree;

    public TreeImageBuilder(RootTree rootTree) {
        this.rootTree = rootTree;
    }

    @Override
    public final Path build(BuildRequest request) throws Exception {
        try (AutoCloseable ahead = touchAhead(request)) {
            return build(request, ahead);
        }
    }

    private Path build(BuildRequest request, AutoCloseable ahead) throws Exception {
        Tree tree = rootTree.build(request.results(), request.tools());
        try {
            FutureTask<Void> sbom = new FutureTask<>(() -> {
                long t0 = System.nanoTime();
                Sbom.write(request.results(), type(), tree.dir(), tree.sourceDateEpoch());
                request.tools().note(String.format("SBOM written in %d ms", (System.nanoTime() - t0) / 1_000_000));
                return null;
            });
            // the SBOM reads the tree's copyright files only: written while the image is made from the tree, unless a
            // disk's mount points move parts of the tree aside meanwhile
            boolean aside = tree.disk().mountPoints().isEmpty() || !partitioned();
            if (aside) {
                Thread t = new Thread(sbom, "sbom-" + request.results().uuid());
                t.setDaemon(true);
                t.start();
            } else {
                request.tools().progress().phase("sbom");
                sbom.run();
            }
            if (!tree.disk().mountPoints().isEmpty() && !partitioned()) {
                request.tools().note("filesystem: " + type().id() + " holds one tree; the mount points "
                        + String.join(", ", new java.util.TreeSet<>(tree.disk().mountPoints()))
                        + " get file systems of their own on disk types only");
            }
            Path image;
            try {
                image = image(request, tree, ahead);
            } finally {
                awaitUninterruptibly(sbom); // it reads the tree, released below
            }
            try {
                sbom.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Exception cause) {
                    throw cause;
                }
                throw e;
            }
            return image;
        } finally {
            TreePlaces.release(tree.dir());
            tree.sandbox().releaseWork(request.results().uuid());
        }
    }

    /** Waits for {@code task} to end, whatever interrupts come meanwhile (kept for the caller). */
    private static void awaitUninterruptibly(FutureTask<?> task) {
        boolean interrupted = false;
        while (!task.isDone()) {
            try {
                task.get();
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the type is a disk with a file system per mount point (else it holds the tree as one). */
    protected boolean partitioned() {
        return false;
    }

    /** Makes the image from the tree into the compose's scratch directory; answers its path. */
    protected abstract Path image(BuildRequest request, Tree tree) throws Exception;

    /** As {@link #image(BuildRequest, Tree)}, given what {@link #touchAhead} started for it (or null). */
    protected Path image(BuildRequest request, Tree tree, AutoCloseable ahead) throws Exception {
        return image(request, tree);
    }

    /**
     * Started before the tree is built, to prepare what the image will take meanwhile (a disk's memory: the disk
     * layer's {@code DiskMemory}), closed when the build ends; null for nothing.
     */
    protected AutoCloseable touchAhead(BuildRequest request) throws Exception {
        return null;
    }
}
