package dev.kiln.image.disk;

import dev.kiln.image.tree.Tree;
import dev.kiln.image.sandbox.ToolRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An ext4 file system made from a tree by {@code mke2fs -d} in the build sandbox (no loop device), with a
 * file-system UUID, hash seed and clock derived from the compose's frozen content: the {@code ext4-filesystem}
 * type's image and every disk's root.
 */
public final class Ext4FileSystem {

    private static final long MIB = 1024 * 1024;

    private Ext4FileSystem() {
    }

    /** The smallest file system Kiln makes for a tree: what it needs plus 30 % and 256 MiB, in whole MiB. */
    public static long minimumSize(Path tree) throws Exception {
        return minimumFor(Tree.usage(tree));
    }

    /** As {@link #minimumSize(Path)}, of a whole tree ({@link Tree#usage()}: over the tree cache, with no walk). */
    public static long minimumSize(Tree tree) throws Exception {
        return minimumFor(tree.usage());
    }

    private static long minimumFor(long usage) {
        long size = (long) (usage * 1.3) + 256 * MIB;
        return (size + MIB - 1) / MIB * MIB;
    }

    /** Writes the tree as an ext4 file system of {@code size} bytes (rounded up to MiB) into {@code image}. */
    public static void make(ToolRunner tools, Path scratch, String uuid, Tree tree, Path image, long size)
            throws Exception {
        make(tools, scratch, uuid, tree, tree.dir(), tree.seed(), "root", image, size);
    }

    /**
     * Writes {@code source} (the tree, or the part of it a mount point of its own holds) as an ext4 file system
     * with the UUID {@code fsUuid} (also its hash seed) and {@code label}, of {@code size} bytes rounded up to MiB.
     */
    public static void make(ToolRunner tools, Path scratch, String uuid, Tree tree, Path source, UUID fsUuid,
            String label, Path image, long size) throws Exception {
        long kib = (size + MIB - 1) / MIB * MIB / 1024;
        // in the sandbox: mke2fs sees (and copies) the owners the files have there; what the service wrote into
        // the tree is given to the same ids there first
        tree.own(source);
        tree.sandbox().runToolInto(tools, uuid, image, out -> mke2fs(source, fsUuid, label, "", out, kib),
                Map.of("E2FSPROGS_FAKE_TIME", String.valueOf(tree.sourceDateEpoch())));
        fixChangeTimes(tools, scratch, tree, image.toString(), rootInode(tree, source));
    }

    /**
     * As {@link #make}, written straight into the partition that starts {@code offset} bytes into {@code disk} (a
     * file of the compose's sandbox work directory): no image of its own to copy in afterwards.
     */
    public static void makeIn(ToolRunner tools, Path scratch, String uuid, Tree tree, Path source, UUID fsUuid,
            String label, Path disk, long offset, long size) throws Exception {
        if (offset <= 0 || offset % 4096 != 0 || size % MIB != 0 || disk.toString().contains("?")) {
            throw new IllegalArgumentException(
                    "an ext4 partition starts on a 4 KiB block and is whole MiB, in a disk whose path has no '?'");
        }
        tree.own(source); // as in make
        tree.sandbox().runToolOn(tools, uuid, disk, mke2fs(source, fsUuid, label, ",offset=" + offset, disk,
                size / 1024), Map.of("E2FSPROGS_FAKE_TIME", String.valueOf(tree.sourceDateEpoch())));
        // e2fsprogs opens a file system inside a larger file as "FILE?offset=BYTES"
        fixChangeTimes(tools, scratch, tree, disk + "?offset=" + offset, rootInode(tree, source));
    }

    private static List<String> mke2fs(Path source, UUID fsUuid, String label, String more, Path out, long kib) {
        String seed = fsUuid.toString();
        return List.of("mke2fs", "-q", "-F", "-t", "ext4", "-d", source.toString(), "-U", seed, "-E",
                "hash_seed=" + seed + ",root_owner=0:0,nodiscard" + more, "-L", label, out.toString(), kib + "k");
    }

    /**
     * mke2fs gives the file system's root directory mode 0755 and root_owner, right for the image's /; a mount
     * point's file system gets the mode and owner of its directory (a /tmp of its own is 1777): debugfs commands.
     */
    private static String rootInode(Tree tree, Path source) throws IOException {
        if (source.equals(tree.dir())) {
            return "";
        }
        Map<String, Object> root = Files.readAttributes(source, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        return String.format("sif <2> mode 0%o%nsif <2> uid %d%nsif <2> gid %d%n",
                (Integer) root.get("mode") & 07777 | 040000, tree.sandbox().inside((Integer) root.get("uid"), false),
                tree.sandbox().inside((Integer) root.get("gid"), true));
    }

    /**
     * mke2fs copies each file's change and access times, which are when the build made or read it; debugfs sets
     * them to the tree's clamped clock (no file's modification time is later), so that the same compose gives the same
     * bytes. The inodes are named by number (every one in use, from the file system's bitmaps): debugfs looking a
     * path up for each would take about a second for a few thousand files.
     */
    private static void fixChangeTimes(ToolRunner tools, Path scratch, Tree tree, String image, String more)
            throws Exception {
        String when = String.valueOf(tree.sourceDateEpoch());
        StringBuilder commands = new StringBuilder(more);
        for (long ino : inodesInUse(tools.run(scratch, List.of("dumpe2fs", image),
                Map.of(), null))) {
            for (String field : List.of("ctime", "atime")) {
                commands.append("sif <").append(ino).append("> ").append(field).append(" @").append(when).append('\n');
            }
        }
        Path script = scratch.resolve("ctime.debugfs");
        Files.writeString(script, commands.toString());
        try {
            tools.run(scratch, List.of("debugfs", "-w", "-f", script.toString(), image),
                    Map.of("E2FSPROGS_FAKE_TIME", when), null);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /**
     * The root directory's inode and every inode in use from the first non-reserved one on, read from dumpe2fs's
     * listing of each group's free inodes.
     */
    static List<Long> inodesInUse(String dumpe2fs) throws IOException {
        long perGroup = 0;
        long first = 0;
        long group = -1;
        List<Long> used = new ArrayList<>(List.of(2L));
        for (String line : dumpe2fs.split("\n")) {
            String t = line.strip();
            if (t.startsWith("Inodes per group:")) {
                perGroup = Long.parseLong(t.substring(t.indexOf(':') + 1).strip());
            } else if (t.startsWith("First inode:")) {
                first = Long.parseLong(t.substring(t.indexOf(':') + 1).strip());
            } else if (line.matches("Group \\d+: .*")) {
                group = Long.parseLong(line.substring(6, line.indexOf(':')));
            } else if (t.startsWith("Free inodes:") && group >= 0) {
                if (perGroup <= 0 || first <= 0) {
                    throw new IOException("dumpe2fs printed no inode geometry before the groups");
                }
                BitSet free = new BitSet();
                for (String item : t.substring(t.indexOf(':') + 1).split(",")) {
                    String r = item.strip();
                    if (r.isEmpty()) {
                        continue;
                    }
                    int dash = r.indexOf('-');
                    long a = Long.parseLong(dash < 0 ? r : r.substring(0, dash));
                    long b = dash < 0 ? a : Long.parseLong(r.substring(dash + 1));
                    free.set((int) (a - group * perGroup - 1), (int) (b - group * perGroup));
                }
                for (long i = 0; i < perGroup; i++) {
                    long ino = group * perGroup + i + 1;
                    if (ino >= first && !free.get((int) i)) {
                        used.add(ino);
                    }
                }
            }
        }
        if (group < 0) {
            throw new IOException("dumpe2fs listed no groups");
        }
        return used;
    }
}
