package dev.kiln.image.tree;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Copies of installed trees kept by key in one directory, the {@code keep} most recently used as long as they fit in
 * {@code maxBytes} together (the newest is always kept): the installed, not yet customized tree by its package set
 * (a compose that changes only customizations starts from it; {@code kiln.cache.trees}), and the installed Essential
 * base by its packages ({@code kiln.cache.bases}). Kiln's own files ({@code /var/cache/kiln}) are not part of a
 * copy. Each distribution has its own shelf ({@link #of}), so that builds for one never evict the trees of another;
 * the bound is each shelf's.
 */
final class TreeCache {

    /** How many cp copy a tree at once ({@link TreeCopy}): the machine's cores, at most 4. */
    private static final int WAYS = Hygiene.WALKERS;

    private final Path dir;
    private final int keep;
    private final long maxBytes;

    TreeCache(Path dir, int keep, long maxBytes) {
        this.dir = dir;
        this.keep = keep;
        this.maxBytes = maxBytes;
    }

    /** The shelf of {@code distro} (a checked Weldr name): its own directory, keeping as many. */
    TreeCache of(String distro) {
        return new TreeCache(dir.resolve(distro), keep, maxBytes);
    }

    /** The cache's directory (all shelves). */
    Path dir() {
        return dir;
    }

    /** Puts the copy kept under {@code key} at {@code tree}; answers its source date epoch, or -1 when none is kept. */
    long restore(String key, Path tree, ToolRunner tools) throws IOException, InterruptedException {
        Path cached = dir.resolve(key);
        if (!Files.isRegularFile(cached.resolve("sde"))) {
            return -1;
        }
        FileTrees.delete(tree);
        TreeCopy.copy(cached.resolve("tree"), tree, WAYS, tools);
        Files.setLastModifiedTime(cached, FileTime.fromMillis(System.currentTimeMillis()));
        return Long.parseLong(Files.readString(cached.resolve("sde")).strip());
    }

    /**
     * The tree kept under {@code key}, held for {@code tree} (no eviction takes it away until the overlay on it is
     * unmounted, {@link TreeLayer#unmount}), its use noted; null when none is kept.
     */
    Path hold(String key, Path tree) throws IOException {
        synchronized (TreeCache.class) {
            Path cached = dir.resolve(key);
            if (!Files.isRegularFile(cached.resolve("sde"))) {
                return null;
            }
            TreeLayer.hold(tree, cached.resolve("tree"));
            Files.setLastModifiedTime(cached, FileTime.fromMillis(System.currentTimeMillis()));
            return cached.resolve("tree");
        }
    }

    /** The source date epoch of a kept tree ({@link #hold}'s answer). */
    static long sde(Path keptTree) throws IOException {
        return Long.parseLong(Files.readString(keptTree.resolveSibling("sde")).strip());
    }

    /**
     * Keeps {@code tree} itself under {@code key}: renamed into the cache, not copied, and held for a tree at the
     * same path ({@link #hold}), its files taking what the caller's walk counted ({@code settled}); answers where it is
     * kept now, or null when it stays where it is (the set is kept already, another build kept it first, or the
     * cache is on another file system). Evicts as {@link #remember}.
     */
    Path adopt(String key, Path tree, long sde, Hygiene.Settled settled) throws IOException {
        Path target = dir.resolve(key);
        if (Files.exists(target)) {
            return null;
        }
        Path tmp = aside(key, tree);
        written(tmp, sde, settled.bytes());
        Files.writeString(tmp.resolve("usage"), settled.usage() + "\n"); // TreeLayer.usage starts from it
        try {
            Files.move(tree, tmp.resolve("tree"), StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileSystemException e) { // EXDEV: the cache is on another file system
            FileTrees.delete(tmp);
            return null;
        }
        synchronized (TreeCache.class) {
            TreeLayer.hold(tree, target.resolve("tree"));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileSystemException e) {
                // another build kept the same set first: this tree goes back where it was
                TreeLayer.unhold(tree);
                Files.move(tmp.resolve("tree"), tree, StandardCopyOption.ATOMIC_MOVE);
                FileTrees.delete(tmp);
                return null;
            }
        }
        evict();
        return target.resolve("tree");
    }

    /** Keeps a copy of {@code tree} under {@code key} (written aside, then renamed); evicts the least recently used. */
    void remember(String key, Path tree, long sde, ToolRunner tools) throws IOException, InterruptedException {
        Path target = dir.resolve(key);
        if (Files.exists(target)) {
            return;
        }
        Path tmp = aside(key, tree);
        written(tmp, sde, TreeCopy.copy(tree, tmp.resolve("tree"), WAYS, tools));
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.nio.file.FileSystemException e) {
            // rename(2) says ENOTEMPTY (a plain FileSystemException here) when another build kept the same key first
            FileTrees.delete(tmp);
            if (Files.isRegularFile(target.resolve("sde"))) {
                return; // the other build's copy is the same tree
            }
            throw e;
        }
        evict();
    }

    /**
     * A directory of its own beside the entries, where the entry for {@code key} is put together before its rename
     * (two builds of one set, build concurrency above 1, may both be keeping it); Kiln's own files
     * ({@code /var/cache/kiln}) leave {@code tree} first: they are no part of an entry.
     */
    private Path aside(String key, Path tree) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + key + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
        Files.createDirectories(tmp);
        FileTrees.delete(tree.resolve("var/cache/kiln"));
        return tmp;
    }

    /** Writes an entry's source date epoch and the bytes its tree takes (what the bound counts). */
    private static void written(Path entry, long sde, long bytes) throws IOException {
        Files.writeString(entry.resolve("sde"), sde + "\n");
        Files.writeString(entry.resolve("bytes"), bytes + "\n");
    }

    /** Deletes the least recently used copies beyond {@code keep}, or beyond {@code maxBytes} together. */
    void evict() throws IOException {
        synchronized (TreeCache.class) {
            evictHeld();
        }
    }

    private void evictHeld() throws IOException {
        List<Path> all;
        try (Stream<Path> dirs = Files.list(dir)) {
            all = dirs.filter(d -> !d.getFileName().toString().startsWith(".")).sorted(Comparator
                    .comparingLong((Path d) -> d.toFile().lastModified()).reversed()).toList();
        }
        long total = 0;
        for (int i = 0; i < all.size(); i++) {
            total += storedBytes(all.get(i));
            // a tree a build's overlay stands on stays until that build is done (counted, the bound is passed)
            if (i > 0 && (i >= keep || total > maxBytes) && !TreeLayer.inUse(all.get(i).resolve("tree"))) {
                FileTrees.delete(all.get(i));
            }
        }
    }

    private static long storedBytes(Path entry) throws IOException {
        Path f = entry.resolve("bytes");
        return Files.isRegularFile(f) ? Long.parseLong(Files.readString(f).strip()) : bytes(entry);
    }

    /** Bytes the files of a tree take: sizes rounded up to 4 KiB, a block per directory and link. */
    static long bytes(Path tree) throws IOException {
        long total = 0;
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                long size = Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Files.size(p) : 0;
                total += (size + 4095) / 4096 * 4096;
            }
        }
        return total;
    }
}
