package dev.kiln.image;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.springframework.stereotype.Component;

/**
 * {@code ext4-filesystem}: the root tree as {@code filesystem.img}, made by {@code mke2fs -d} (no loop device),
 * sized from the tree plus headroom or from the compose's size, with a file-system UUID, hash seed and clock
 * derived from the compose's frozen content.
 */
@Component
class Ext4Builder extends TreeImageBuilder {

    private static final long MIB = 1024 * 1024;

    Ext4Builder(RootTree rootTree) {
        super(rootTree);
    }

    @Override
    public OutputType type() {
        return OutputType.EXT4_FILESYSTEM;
    }

    @Override
    Path image(BuildRequest request, RootTree.Tree tree) throws Exception {
        long size = Math.max(Math.max(request.sizeBytes(), tree.rootSize()), minimumSize(tree.dir()));
        Path image = request.scratch().resolve(type().imageName());
        make(request, tree, image, size);
        return image;
    }

    /** The smallest file system Kiln makes for a tree: what it needs plus 30 % and 256 MiB, in whole MiB. */
    static long minimumSize(Path tree) throws Exception {
        long size = (long) (usage(tree) * 1.3) + 256 * MIB;
        return (size + MIB - 1) / MIB * MIB;
    }

    /** Writes the tree as an ext4 file system of {@code size} bytes (rounded up to MiB) into {@code image}. */
    static void make(BuildRequest request, RootTree.Tree tree, Path image, long size) throws Exception {
        size = (size + MIB - 1) / MIB * MIB;
        String seed = tree.seed().toString();
        request.tools().run(request.scratch(), List.of("mke2fs", "-q", "-F", "-t", "ext4", "-d", tree.dir().toString(),
                "-U", seed, "-E", "hash_seed=" + seed + ",root_owner=0:0,nodiscard", "-L", "root", image.toString(),
                (size / 1024) + "k"), Map.of("E2FSPROGS_FAKE_TIME", String.valueOf(tree.sourceDateEpoch())), null);
        fixChangeTimes(request, tree, image);
    }

    /**
     * mke2fs copies each file's change and access times, which are when the build made or read it; debugfs sets
     * them to the clamped modification time, so that the same compose gives the same bytes.
     */
    private static void fixChangeTimes(BuildRequest request, RootTree.Tree tree, Path image) throws Exception {
        StringBuilder commands = new StringBuilder();
        String when = String.valueOf(tree.sourceDateEpoch());
        try (Stream<Path> all = Files.walk(tree.dir())) {
            for (Path p : all.sorted().toList()) {
                String rel = "/" + tree.dir().relativize(p);
                if (rel.contains("\"") || rel.contains("\n")) {
                    continue;
                }
                long mtime = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() / 1000;
                for (String field : List.of("ctime", "atime")) { // atime: mke2fs reading the file moved it (relatime)
                    commands.append("sif \"").append(rel).append("\" ").append(field).append(" @").append(mtime).append('\n');
                }
            }
        }
        commands.append("sif /lost+found ctime @").append(when).append('\n');
        Path script = request.scratch().resolve("ctime.debugfs");
        Files.writeString(script, commands.toString());
        try {
            request.tools().run(request.scratch(), List.of("debugfs", "-w", "-f", script.toString(), image.toString()),
                    Map.of("E2FSPROGS_FAKE_TIME", when), null);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** Bytes the tree needs: file sizes rounded up to 4 KiB blocks, and a block per directory and link. */
    static long usage(Path tree) throws Exception {
        long total = 0;
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.toList()) {
                long size = Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? Files.size(p) : 0;
                total += (size + 4095) / 4096 * 4096 + 4096;
            }
        }
        return total;
    }
}
