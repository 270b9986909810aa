package dev.kiln.image.format;

import dev.kiln.image.TreeImageBuilder;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.disk.DiskMemory;
import dev.kiln.image.tree.RootTree;
import dev.kiln.image.tree.Tree;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.output.OutputType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A disk type: one raw disk ({@link DiskImage}) made in the scratch directory, then {@link #wrap}ped into the file
 * the type's platform takes. One small class per type.
 */
abstract class DiskBuilder extends TreeImageBuilder {

    private final OutputType type;

    DiskBuilder(RootTree rootTree, OutputType type) {
        super(rootTree);
        this.type = type;
    }

    @Override
    public final OutputType type() {
        return type;
    }

    @Override
    protected final boolean partitioned() {
        return true;
    }

    @Override
    protected final AutoCloseable touchAhead(BuildRequest request) throws Exception {
        // a disk only read is made in memory (next to the tree), its root where the zeros go
        Path file = readsRaw() ? rootTree.aheadFile(request.results()) : null;
        // once dpkg configures (its unpacking takes new memory as fast as it can, and two at it slow both down)
        java.util.Set<String> before = java.util.Set.of("tree", "fetch", "unpack");
        return file == null ? null : DiskImage.touchAhead(file, rootTree.installedBytes(request.results()),
                () -> {
                    String now = request.tools().progress().current();
                    return now != null && !before.contains(now);
                });
    }

    @Override
    protected final Path image(BuildRequest request, Tree tree) throws Exception {
        return image(request, tree, null);
    }

    @Override
    protected final Path image(BuildRequest request, Tree tree, AutoCloseable started) throws Exception {
        DiskMemory ahead = started instanceof DiskMemory m ? m : null;
        Path raw = request.scratch().resolve("disk.raw.tmp");
        DiskImage.Disk disk = null;
        try {
            request.tools().progress().phase("mkfs");
            // a disk only read (converted, packed) is made next to a tree in memory when there is room for it
            disk = DiskImage.make(request.tools(), request.scratch(), request.results().uuid(),
                    request.sizeBytes(), tree, raw, readsRaw() ? tree.dir().getParent() : null, ahead);
            Path image = request.scratch().resolve(type().imageName());
            long t0 = System.nanoTime();
            request.tools().progress().phase("convert");
            wrap(request, disk, image);
            request.tools().note(String.format("%s: %s written in %d ms", type().id(), image.getFileName(),
                    (System.nanoTime() - t0) / 1_000_000));
            return image;
        } finally {
            Files.deleteIfExists(raw);
            if (disk != null && !TreePlaces.goesWith(tree.dir(), disk.file())) {
                Files.deleteIfExists(disk.file());
            }
        }
    }

    /** Whether {@link #wrap} only reads the raw disk (true), rather than taking the file itself as the image. */
    boolean readsRaw() {
        return true;
    }

    /** Turns the raw disk into the type's image file. */
    abstract void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception;
}
