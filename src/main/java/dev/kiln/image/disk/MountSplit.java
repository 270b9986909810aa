package dev.kiln.image.disk;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.tree.Hygiene;
import dev.kiln.kickstart.PlanException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The tree cut along its mount points: what is below each mount point moves (by rename, on the same file system) to
 * a directory of its own beside the tree, from which that mount point's file system is made, leaving the mount point
 * an empty directory in its parent's file system, as an installed system has it. Deeper mount points go first
 * ({@code /var/log} before {@code /var}); {@link #restore} moves everything back in the opposite order.
 */
final class MountSplit {

    /** One mount point's content, moved to {@code staging}. */
    record Moved(String mount, Path dir, Path staging) {
    }

    private MountSplit() {
    }

    /**
     * Moves each mount point's directory out of {@code tree}; the empty directories left and their parents get the
     * tree's clock {@code sde} (their times would otherwise be the build's, and the disk not the same twice).
     */
    static List<Moved> split(Path tree, List<String> mounts, Sandbox sandbox, long sde) throws IOException {
        List<String> deepestFirst = new ArrayList<>(mounts);
        deepestFirst.sort(Comparator.comparingLong((String m) -> m.chars().filter(c -> c == '/').count())
                .reversed().thenComparing(Comparator.naturalOrder()));
        List<Moved> moved = new ArrayList<>();
        try {
            int n = 0;
            for (String mount : deepestFirst) {
                Path dir = mountDir(tree, mount, sandbox);
                Path staging = tree.resolveSibling(tree.getFileName() + ".mount-" + (n++));
                deleteLeftover(staging);
                // the directory itself moves: the file system's root keeps its owner and mode (mke2fs copies them),
                // and an empty directory owned by root takes its place as the mount point
                Files.move(dir, staging);
                moved.add(new Moved(mount, dir, staging));
                emptyDir(dir, sandbox);
                Hygiene.clampWritten(tree, sde, dir);
            }
            return moved;
        } catch (IOException | RuntimeException e) {
            restore(moved);
            throw e;
        }
    }

    /** Moves every mount point's content back into the tree, shallower mount points first. */
    static void restore(List<Moved> moved) throws IOException {
        List<Moved> order = new ArrayList<>(moved);
        Collections.reverse(order);
        for (Moved m : order) {
            if (Files.isDirectory(m.staging(), LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(m.dir()); // the empty mount point
                Files.move(m.staging(), m.dir());
            }
        }
    }

    private static void emptyDir(Path dir, Sandbox sandbox) throws IOException {
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        sandbox.own(dir, 0, 0);
    }

    /**
     * The mount point's directory in the tree, made (owned by root, mode 0755) when the tree has none; every element
     * of its path must be a directory, not a link, so that no mount point leads elsewhere.
     */
    private static Path mountDir(Path tree, String mount, Sandbox sandbox) throws IOException {
        Path cur = tree;
        for (String name : mount.substring(1).split("/")) {
            cur = cur.resolve(name);
            if (Files.isSymbolicLink(cur)) {
                throw new PlanException("mount point " + mount + ": " + tree.relativize(cur) + " is a symbolic link in "
                        + "the image, not a directory");
            }
            if (!Files.exists(cur, LinkOption.NOFOLLOW_LINKS)) {
                emptyDir(cur, sandbox); // clamped with the mount point's own directory
            } else if (!Files.isDirectory(cur, LinkOption.NOFOLLOW_LINKS)) {
                throw new PlanException("mount point " + mount + ": /" + tree.relativize(cur) + " is a file in the image");
            }
        }
        return cur;
    }

    private static void deleteLeftover(Path staging) throws IOException {
        if (Files.exists(staging, LinkOption.NOFOLLOW_LINKS)) {
            dev.kiln.store.FileTrees.delete(staging);
        }
    }
}
