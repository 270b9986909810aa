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
 * Copies of installed trees kept by key in one directory, the {@code keep} most recently used: the installed, not
 * yet customized tree by its package set (a compose that changes only customizations starts from it;
 * {@code kiln.cache.trees}), and the installed Essential base by its packages ({@code kiln.cache.bases}). Kiln's
 * own files ({@code /var/cache/kiln}) are not part of a copy. Each distribution has its own shelf ({@link #of}), so
 * that builds for one never evict the trees of another.
 */
final class TreeCache {

    private final Path dir;
    private final int keep;

    TreeCache(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    /** The shelf of {@code distro} (a checked Weldr name): its own directory, keeping as many. */
    TreeCache of(String distro) {
        return new TreeCache(dir.resolve(distro), keep);
    }

    /** Puts the copy kept under {@code key} at {@code tree}; answers its source date epoch, or -1 when none is kept. */
    long restore(String key, Path tree, ToolRunner tools) throws IOException, InterruptedException {
        Path cached = dir.resolve(key);
        if (!Files.isRegularFile(cached.resolve("sde"))) {
            return -1;
        }
        FileTrees.delete(tree);
        tools.run(null, List.of("cp", "-a", cached.resolve("tree").toString(), tree.toString()));
        Files.setLastModifiedTime(cached, FileTime.fromMillis(System.currentTimeMillis()));
        return Long.parseLong(Files.readString(cached.resolve("sde")).strip());
    }

    /** Keeps a copy of {@code tree} under {@code key} (written aside, then renamed); evicts the least recently used. */
    void remember(String key, Path tree, long sde, ToolRunner tools) throws IOException, InterruptedException {
        Path target = dir.resolve(key);
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + key + ".tmp");
        FileTrees.delete(tmp);
        Files.createDirectories(tmp);
        FileTrees.delete(tree.resolve("var/cache/kiln"));
        tools.run(null, List.of("cp", "-a", tree.toString(), tmp.resolve("tree").toString()));
        Files.writeString(tmp.resolve("sde"), sde + "\n");
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        List<Path> all;
        try (Stream<Path> dirs = Files.list(dir)) {
            all = dirs.filter(d -> !d.getFileName().toString().startsWith(".")).sorted(Comparator
                    .comparingLong((Path d) -> d.toFile().lastModified()).reversed()).toList();
        }
        for (Path old : all.subList(Math.min(keep, all.size()), all.size())) {
            FileTrees.delete(old);
        }
    }
}
