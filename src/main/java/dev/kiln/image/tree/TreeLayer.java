package dev.kiln.image.tree;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A build's tree as an overlay (the kernel's overlayfs) on the installed tree the tree cache keeps: the cached tree
 * is the lower layer, read-only to the build; what the customizations, the initramfs and the clean-up change goes to
 * an upper layer beside the tree, and a changed time or owner copies only the file's metadata up
 * ({@code metacopy=on}). So the installed tree is never copied: a first build moves its tree into the cache and
 * goes on over it, a build of a cached set starts at once. Hard links stay links when one name changes
 * ({@code index=on}); renamed directories keep their place ({@code redirect_dir=on}). The image tools read the
 * merged tree as any other (mke2fs gives the same bytes through it as from a plain copy). Mounted by the service
 * (root) in the host's mount namespace, so that the service's own code and every sandbox see it; unmounted when the
 * build's tree is released, and overlays a killed service left are unmounted when the next one starts. Where the
 * kernel has no overlayfs or the service may not mount, trees are copied as before.
 */
final class TreeLayer {

    private static final Logger log = LoggerFactory.getLogger(TreeLayer.class);
    /** Paths mount's option list can carry as they are: no commas, colons, backslashes, blanks or line breaks. */
    private static final Pattern PLAIN_PATH = Pattern.compile("/[A-Za-z0-9/._@+=-]*");
    /** Each overlay this service mounted: the build's tree → the cached tree under it. */
    private static final Map<Path, Path> MOUNTED = new ConcurrentHashMap<>();
    private static volatile Boolean usable;

    private TreeLayer() {
    }

    /** Whether a tree at {@code tree} can be an overlay on {@code lower}: paths plain, overlayfs there, mounting allowed. */
    static boolean usable(Path lower, Path tree) {
        return PLAIN_PATH.matcher(lower.toString()).matches() && PLAIN_PATH.matcher(tree.toString()).matches()
                && probe(tree.getParent());
    }

    /** Tried once per service: a small overlay mounted and unmounted in {@code dir} (the first build's directory). */
    private static boolean probe(Path dir) {
        Boolean known = usable;
        if (known != null) {
            return known;
        }
        synchronized (TreeLayer.class) {
            if (usable == null) {
                Path probe = dir.resolve(".overlay-probe");
                boolean ok = false;
                try {
                    FileTrees.delete(probe);
                    for (String d : List.of("l", "u", "w", "m")) {
                        Files.createDirectories(probe.resolve(d));
                    }
                    ok = ToolRunner.runToFile(List.of("mount", "-t", "overlay", "-o", options(probe.resolve("l"),
                            probe.resolve("u"), probe.resolve("w")), "kiln-tree", probe.resolve("m").toString()),
                            Path.of("/dev/null")) == 0;
                    if (ok) {
                        ok = ToolRunner.runToFile(List.of("umount", probe.resolve("m").toString()),
                                Path.of("/dev/null")) == 0;
                    }
                    FileTrees.delete(probe);
                } catch (IOException e) {
                    ok = false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false; // not known yet: asked again next time
                }
                log.info(ok ? "build trees are overlays on the tree cache (overlayfs)"
                        : "overlayfs cannot be mounted here: build trees are copies of the tree cache");
                usable = ok;
            }
            return usable;
        }
    }

    private static String options(Path lower, Path upper, Path work) {
        return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",index=on,redirect_dir=on,metacopy=on";
    }

    /** Registers {@code tree} as about to be an overlay on {@code lower}, so that no eviction takes it away. */
    static void hold(Path tree, Path lower) {
        MOUNTED.put(tree, lower);
    }

    /** Forgets a hold that no overlay came of. */
    static void unhold(Path tree) {
        MOUNTED.remove(tree);
    }

    /** Whether a build's tree is (or is about to be) an overlay on {@code lower}. */
    static boolean inUse(Path lower) {
        return MOUNTED.containsValue(lower);
    }

    /**
     * Mounts {@code tree} as an overlay on {@code lower} (held already), its upper layer and work directory beside it
     * (what an earlier attempt left there goes first); the merged root has the lower root's owner, mode and times.
     */
    static void mount(Path lower, Path tree, ToolRunner tools) throws IOException, InterruptedException {
        Path dir = tree.getParent();
        Path upper = dir.resolve("upper");
        Path work = dir.resolve("work");
        FileTrees.delete(upper);
        FileTrees.delete(work);
        Files.createDirectory(upper);
        Files.createDirectory(work);
        Files.createDirectories(tree);
        PosixFileAttributes root = Files.readAttributes(lower, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(upper, "unix:uid", Files.getAttribute(lower, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        Files.setAttribute(upper, "unix:gid", Files.getAttribute(lower, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        Files.setPosixFilePermissions(upper, root.permissions());
        Files.getFileAttributeView(upper, PosixFileAttributeView.class)
                .setTimes(root.lastModifiedTime(), root.lastAccessTime(), null);
        tools.run(dir, List.of("mount", "-t", "overlay", "-o", options(lower, upper, work), "kiln-tree",
                tree.toString()));
    }

    /**
     * The paths of the overlay at {@code tree} that its upper layer holds: all this build wrote over the cached tree
     * (new and changed files, their directories, metadata copied up), deleted paths left out; null when {@code tree}
     * is no overlay of this service's (every path may then have changed).
     */
    static List<Path> changed(Path tree) throws IOException {
        Path upper = tree.getParent().resolve("upper");
        if (!MOUNTED.containsKey(tree) || !Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        List<Path> out = new ArrayList<>();
        FileTrees.visit(upper, (p, a) -> {
            Path merged = tree.resolve(upper.relativize(p).toString());
            if (Files.exists(merged, LinkOption.NOFOLLOW_LINKS)) { // a whiteout (a deleted path) is not there
                out.add(merged);
            }
        });
        return out;
    }

    /**
     * What the overlay at {@code tree} takes as {@link Tree#usage} counts it, without a walk of it: the cached tree's
     * count (kept with it) and, for each path the upper layer holds, the merged path's count for the cached one's,
     * a cached directory or file the build deleted (or hid under a directory made anew) taken off whole; null when
     * that cannot be known so (no count kept, a directory renamed: its entries come from another place, a file with
     * other names whose size changed: the other names are not in the upper layer).
     */
    static Long usage(Path tree) throws IOException {
        Path lower = MOUNTED.get(tree);
        Path upper = tree.getParent().resolve("upper");
        Path kept = lower == null ? null : lower.resolveSibling("usage");
        if (kept == null || !Files.isRegularFile(kept) || !Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        long[] total = {Long.parseLong(Files.readString(kept).strip())};
        boolean[] unknown = {false};
        FileTrees.visit(upper, (p, a) -> {
            String rel = upper.relativize(p).toString();
            Path merged = tree.resolve(rel);
            Path below = lower.resolve(rel);
            BasicFileAttributes m = attributes(merged);
            BasicFileAttributes l = attributes(below);
            if (m != null) {
                total[0] += Tree.blocks(m);
            }
            if (l != null) {
                if (m != null && m.isDirectory() && l.isDirectory()) {
                    total[0] -= Tree.blocks(l); // its entries: each on its own
                } else if (m == null || l.isDirectory()) {
                    total[0] -= usageOf(below); // deleted, or a directory replaced: all of it
                } else {
                    if (m.isRegularFile() && m.size() != l.size()
                            && (Integer) Files.getAttribute(merged, "unix:nlink", LinkOption.NOFOLLOW_LINKS) > 1) {
                        unknown[0] = true;
                    }
                    total[0] -= Tree.blocks(l);
                }
            }
            if (m != null && m.isDirectory() && a.isDirectory()) {
                Set<String> inMerged = names(merged);
                Set<String> inUpper = names(p);
                Set<String> inLower = l != null && l.isDirectory() ? names(below) : Set.of();
                for (String c : inMerged) {
                    if (!inUpper.contains(c) && !inLower.contains(c)) {
                        unknown[0] = true; // a renamed directory's entries, from elsewhere in the cached tree
                    }
                }
                for (String c : inLower) {
                    if (!inMerged.contains(c) && !inUpper.contains(c)) {
                        total[0] -= usageOf(below.resolve(c)); // hidden by a directory made anew
                    }
                }
            }
        });
        return unknown[0] ? null : total[0];
    }

    private static BasicFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    private static Set<String> names(Path dir) throws IOException {
        Set<String> out = new HashSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                out.add(e.getFileName().toString());
            }
        }
        return out;
    }

    private static long usageOf(Path p) throws IOException {
        long[] total = {0};
        FileTrees.visit(p, (q, a) -> total[0] += Tree.blocks(a));
        return total[0];
    }

    /**
     * Unmounts the overlay at {@code tree} if there is one (lazily when busy) and removes its upper layer and work
     * directory; the cached tree under it is free to go again. Nothing happens to a tree that is no overlay.
     */
    static void unmount(Path tree) throws IOException {
        Path lower = MOUNTED.remove(tree);
        if (lower == null && !mountPoints(tree.toString()).contains(tree.toString())) {
            return;
        }
        umount(tree.toString());
        Path dir = tree.getParent();
        FileTrees.delete(dir.resolve("upper"));
        FileTrees.delete(dir.resolve("work"));
    }

    /** Unmounts every overlay whose mount point starts with {@code prefix} (a killed service's), deepest first. */
    static void unmountUnder(String prefix) {
        try {
            List<String> points = new ArrayList<>(mountPoints(prefix));
            points.sort(Comparator.comparingInt(String::length).reversed());
            for (String p : points) {
                umount(p);
                MOUNTED.remove(Path.of(p));
            }
        } catch (IOException e) {
            log.warn("could not unmount the overlays under {}: {}", prefix, e.toString());
        }
    }

    private static void umount(String point) throws IOException {
        try {
            if (ToolRunner.runToFile(List.of("umount", point), Path.of("/dev/null")) != 0
                    && ToolRunner.runToFile(List.of("umount", "-l", point), Path.of("/dev/null")) != 0
                    && mountPoints(point).contains(point)) {
                throw new IOException("could not unmount the build tree's overlay at " + point);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unmounting " + point, e);
        }
    }

    /** The overlay mount points of this mount namespace that start with {@code prefix} ({@code /proc/self/mountinfo}). */
    static List<String> mountPoints(String prefix) throws IOException {
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length > 4 && dash > 0 && dash + 1 < f.length && f[dash + 1].equals("overlay")) {
                String point = unescape(f[4]);
                if (point.startsWith(prefix)) {
                    found.add(point);
                }
            }
        }
        return found;
    }

    /** mountinfo writes a space, tab, line break and backslash in a path as an octal escape. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
