package dev.kiln.image.disk;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.image.tree.Tree;
import dev.kiln.kickstart.PlanException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The file systems other than ext4 a layout may ask for, each made into a file by its own tool: xfs
 * ({@code mkfs.xfs}, for mount points the image installs nothing into: xfsprogs cannot fill one from a directory
 * here), vfat ({@code mkfs.fat}, filled by mtools; no owners or links) and swap ({@code mkswap}). UUIDs and labels
 * come from the plan and the compose's seed.
 */
final class FileSystems {

    private static final long MIB = 1L << 20;
    /** mkfs.xfs refuses smaller file systems. */
    private static final long XFS_MIN = 300 * MIB;

    private FileSystems() {
    }

    /** What a file system of this type needs for {@code source} (the part of the tree it holds; null for swap). */
    static long needs(String fstype, Path source, String mount) throws Exception {
        return switch (fstype) {
            case "ext4" -> Ext4FileSystem.minimumSize(source);
            case "xfs" -> {
                if (!empty(source)) {
                    throw new PlanException(mount + " holds files in the image; Kiln makes xfs file systems only for "
                            + "mount points the image installs nothing into: use ext4 for " + mount);
                }
                yield XFS_MIN;
            }
            case "vfat" -> (long) (Tree.usage(source) * 1.3) + 64 * MIB;
            case "swap" -> MIB;
            default -> throw new PlanException("Kiln makes ext4, xfs, vfat and swap, not " + fstype);
        };
    }

    /** A FAT volume's serial as fstab and blkid name it ({@code ABCD-1234}), from its UUID. */
    static String fatSerial(UUID fs) {
        String hex = fs.toString().substring(0, 8).toUpperCase();
        return hex.substring(0, 4) + "-" + hex.substring(4);
    }

    static void make(ToolRunner tools, Path scratch, Tree tree, String fstype, Path source, UUID fs, String label,
            Path image, long size) throws Exception {
        Files.deleteIfExists(image);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
        }
        switch (fstype) {
            case "xfs" -> tools.run(scratch, List.of("mkfs.xfs", "-q", "-f", "-m", "uuid=" + fs, "-L", label,
                    image.toString()));
            case "swap" -> tools.run(scratch, List.of("mkswap", "-U", fs.toString(), "-L", label, image.toString()));
            case "vfat" -> {
                Map<String, String> env = Map.of("MTOOLS_SKIP_CHECK", "1",
                        "SOURCE_DATE_EPOCH", String.valueOf(tree.sourceDateEpoch()));
                tools.run(scratch, List.of("mkfs.fat", "--invariant", "-i", fatSerial(fs).replace("-", ""), "-n", label,
                        image.toString()), env, null);
                List<String> copy = new ArrayList<>(List.of("mcopy", "-s", "-p", "-Q", "-i", image.toString()));
                try (Stream<Path> children = Files.list(source)) {
                    for (Path c : children.sorted().toList()) {
                        if (Files.isSymbolicLink(c)) {
                            throw new PlanException("a vfat file system holds no symbolic links: " + c.getFileName());
                        }
                        copy.add(c.toString());
                    }
                }
                if (copy.size() > 6) {
                    copy.add("::/");
                    tools.run(scratch, copy, env, null);
                }
            }
            default -> throw new PlanException("Kiln makes ext4, xfs, vfat and swap, not " + fstype);
        }
    }

    private static boolean empty(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.findAny().isEmpty();
        }
    }
}
