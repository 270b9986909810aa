package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.store.FileTrees;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where trees live: on tmpfs ({@code /dev/shm}) when there is one with room (dpkg is much faster there), else in
 * the state directory; a service's files on tmpfs carry its state directory's hash, so that services on one machine
 * stay apart. Trees of builds a crash interrupted are removed when the service starts.
 */
public final class TreePlaces {

    private static final Logger log = LoggerFactory.getLogger(TreePlaces.class);
    private static final ExecutorService RELEASER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-tree-release");
        t.setDaemon(true);
        return t;
    });

    private final Path stateDir;
    private final Path tmpfs;
    private final String instance;
    private final Sandbox sandbox;

    TreePlaces(Path stateDir, boolean useTmpfs, Sandbox sandbox) {
        this.stateDir = stateDir;
        this.sandbox = sandbox;
        Path shm = Path.of("/dev/shm");
        this.tmpfs = useTmpfs && Files.isDirectory(shm) && FileTrees.onTmpfs(shm) ? shm : null;
        this.instance = Seeds.sha256(stateDir.toString()).substring(0, 12);
        // overlays of builds a killed service left mounted (TreeLayer): unmounted before anything under them goes
        TreeLayer.unmountUnder(stateDir.toAbsolutePath() + "/");
        TreeLayer.unmountUnder("/dev/shm/kiln-" + instance + "-");
        if (tmpfs != null) { // trees of builds that a crash interrupted: theirs is the only copy of nothing
            try (Stream<Path> old = Files.list(tmpfs)) {
                for (Path p : old.filter(p -> p.getFileName().toString().startsWith("kiln-" + instance + "-build-"))
                        .toList()) {
                    FileTrees.delete(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Deletes everything of this service on tmpfs (its caches of trees and bases, trees of builds a stop
     * interrupted, trees still being released): memory that nothing else frees. Called when the service stops.
     */
    void releaseTmpfs() {
        TreeLayer.unmountUnder(stateDir.toAbsolutePath() + "/");
        if (tmpfs == null) {
            return;
        }
        TreeLayer.unmountUnder(tmpfs + "/kiln-" + instance + "-");
        try (Stream<Path> mine = Files.list(tmpfs)) {
            for (Path p : mine.filter(p -> p.getFileName().toString().startsWith("kiln-" + instance + "-")).toList()) {
                try {
                    FileTrees.delete(p);
                } catch (IOException e) {
                    log.warn("could not remove {} at stop: {}", p, e.toString());
                }
            }
        } catch (IOException e) {
            log.warn("could not list {} at stop: {}", tmpfs, e.toString());
        }
    }

    /**
     * A file of compose {@code uuid} on tmpfs beside its tree's directory ({@code kiln-<hash>-build-<uuid><suffix>}:
     * a crash's leftover goes at the next start with the trees), or null without tmpfs.
     */
    Path tmpfsFile(String uuid, String suffix) {
        return tmpfs == null ? null : tmpfs.resolve("kiln-" + instance + "-build-" + uuid + suffix);
    }

    /** The file system a cache directory is on: its total size, to bound the cache by (a quarter of it). */
    long cacheSpace(String name) {
        Path dir = cacheDir(name);
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                try {
                    return Files.getFileStore(p).getTotalSpace();
                } catch (IOException e) {
                    return Long.MAX_VALUE;
                }
            }
        }
        return Long.MAX_VALUE;
    }

    /** {@code /dev/shm/kiln-<hash of the state directory>-<name>}: one service's files on tmpfs. */
    public static Path tmpfsDir(Path stateDir, String name) {
        return Path.of("/dev/shm", "kiln-" + Seeds.sha256(stateDir.toString()).substring(0, 12) + "-" + name);
    }

    /** The directory of one of the service's caches of trees: on tmpfs when trees are built there. */
    Path cacheDir(String name) {
        return tmpfs != null ? tmpfsDir(stateDir, name) : stateDir.resolve("cache").resolve(name);
    }

    /**
     * Where a compose's tree is built: on tmpfs when there is room for it, else in the compose's work directory;
     * either way in a directory only the sandbox (and the service) can enter.
     */
    Path treeDir(ResultsDir results, List<Map<String, Object>> deps) throws IOException {
        if (tmpfs != null) {
            long need = 0;
            for (Map<String, Object> d : deps) {
                need += ((Number) d.getOrDefault("installed_size", 0L)).longValue()
                        + ((Number) d.getOrDefault("size", 0L)).longValue();
            }
            if (Files.getFileStore(tmpfs).getUsableSpace() > 2 * need + (1L << 30)) {
                Path dir = tmpfs.resolve("kiln-" + instance + "-build-" + results.uuid());
                sandbox.privateDir(dir); // the sandbox's alone (and the service's): not for other local users
                return dir.resolve("tree");
            }
        }
        return sandbox.workDir(results.uuid()).resolve("tree"); // results/ is closed to the sandbox
    }

    /**
     * Removes a tree (and its tmpfs directory). On tmpfs, the directory is renamed out of the way at once and
     * deleted in the background (some ten thousand files: a fifth of a second the compose need not wait for);
     * what a stop interrupts, the next start removes with the other leftovers.
     */
    public static void release(Path tree) throws IOException {
        TreeLayer.unmount(tree); // an overlay on the tree cache: the cached tree stays, held no more
        Path dir = tree.getParent();
        if (buildDir(dir)) {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Path gone = dir.resolveSibling(dir.getFileName() + ".released-" + System.nanoTime());
                Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
                RELEASER.execute(() -> {
                    try {
                        FileTrees.delete(gone);
                    } catch (IOException e) {
                        log.warn("could not remove {}: {}", gone, e.toString());
                    }
                });
            }
        } else {
            FileTrees.delete(tree);
        }
    }

    /**
     * Whether {@code file} (a disk made next to the tree) goes when {@code tree} is released, with the build's
     * directory, in the background: no need to delete it first (freeing a disk's GiB of memory takes a tenth of a
     * second or more).
     */
    public static boolean goesWith(Path tree, Path file) {
        Path dir = tree.getParent();
        return buildDir(dir) && file.getParent().equals(dir);
    }

    private static boolean buildDir(Path dir) {
        return dir.getFileName().toString().matches("kiln-[0-9a-f]{12}-build-.*");
    }
}
