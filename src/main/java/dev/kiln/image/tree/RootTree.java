package dev.kiln.image.tree;

import dev.kiln.KilnProperties;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.kickstart.DiskPlan;
import dev.kiln.blueprint.TreeCustomizations;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.image.customize.Customizer;
import dev.kiln.image.fetch.PackageCache;
import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.kickstart.Kickstart;
import dev.kiln.source.Distros;
import dev.kiln.store.FileTrees;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import jakarta.annotation.PreDestroy;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * A compose's root tree: its frozen package set installed ({@link Installer}, or the installed tree of the same set
 * taken from the cache), then its plan ({@code final-kickstart.ks}) applied ({@link Customizer}: customizations
 * and {@code %post}), the initramfs of its kernels ({@link Initramfs}), then the clean-up every image needs
 * ({@link Hygiene}).
 */
@Component
public class RootTree {

    private final Sandbox sandbox;
    private final TreePlaces places;
    private final TreeCache trees;
    private final Installer installer;
    private final Initramfs initramfs;
    private final boolean overlay;

    public RootTree(PackageCache cache, Sandbox sandbox, KilnProperties properties,
            @Value("${kiln.cache.trees:2}") int keepTrees, @Value("${kiln.cache.bases:2}") int keepBases,
            @Value("${kiln.cache.trees-max-bytes:0}") long maxBytes,
            @Value("${kiln.build.tmpfs:true}") boolean useTmpfs, @Value("${kiln.cache.initramfs:16}") int keepInitramfs,
            @Value("${kiln.build.overlay:true}") boolean overlay) {
        this.sandbox = sandbox;
        this.overlay = overlay;
        this.places = new TreePlaces(properties.localDir(), useTmpfs, sandbox);
        // each cache: at most a quarter of the file system it is on (tmpfs is memory) unless set
        this.trees = new TreeCache(places.cacheDir("trees"), keepTrees,
                maxBytes > 0 ? maxBytes : places.cacheSpace("trees") / 4);
        this.installer = new Installer(cache, sandbox, new TreeCache(places.cacheDir("bases"), keepBases,
                maxBytes > 0 ? maxBytes : places.cacheSpace("bases") / 4));
        this.initramfs = new Initramfs(properties.localDir().resolve("cache/initramfs"), keepInitramfs);
    }

    /** At stop: the caches and trees on tmpfs are memory; they go with the service (nothing is left in /dev/shm). */
    @PreDestroy
    void releaseTmpfs() {
        places.releaseTmpfs();
    }

    /**
     * Where memory for a disk made next to the compose's tree can be touched ahead ({@code DiskMemory}): a file of
     * the service on tmpfs, named after the compose (removed with a crash's leftovers), or null without tmpfs.
     */
    public Path aheadFile(ResultsDir results) {
        return places.tmpfsFile(results.uuid(), ".disk");
    }

    /** What the compose's packages take installed (their {@code Installed-Size}), in bytes. */
    public long installedBytes(ResultsDir results) throws IOException {
        long total = 0;
        for (Map<String, Object> d : DepsFile.read(results.read(ResultsDir.DEPS))) {
            total += ((Number) d.getOrDefault("installed_size", 0L)).longValue();
        }
        return total;
    }

    /** The distribution the compose builds (its frozen blueprint's, else the host's): its caches are its own. */
    static String distro(ResultsDir results) throws IOException {
        String asked = BlueprintParser.parseToml(results.read(ResultsDir.FROZEN)).distro();
        return Distros.resolve(asked).orElseThrow(() -> new IllegalStateException(Distros.invalid(asked)));
    }

    /** Builds the compose's tree; on failure nothing of it is left. */
    public Tree build(ResultsDir results, ToolRunner tools) throws IOException, InterruptedException {
        String depsText = results.read(ResultsDir.DEPS);
        List<Map<String, Object>> deps = DepsFile.read(depsText);
        Path tree = places.treeDir(results, deps);
        try {
            TreeLayer.unmount(tree); // what an earlier attempt of this step left
            FileTrees.delete(tree);
            Files.createDirectories(tree.getParent());
            return install(results, tools, tree, depsText, deps);
        } catch (IOException | InterruptedException | RuntimeException e) {
            TreePlaces.release(tree);
            FileTrees.delete(tree.resolveSibling("debs"));
            throw e;
        }
    }

    private Tree install(ResultsDir results, ToolRunner tools, Path tree, String depsText,
            List<Map<String, Object>> deps) throws IOException, InterruptedException {
        String plan = results.read(ResultsDir.FINAL_KICKSTART);
        Kickstart kickstart = Kickstart.parse(plan);
        UUID seed = Seeds.of(depsText, plan);
        sandbox.range(); // no build without its sandbox; the message says what to set up
        // cached trees belong to the sandbox's id range on the host: another range is another cache; "installer 3":
        // trees kept before the whole tree was clamped and owned at once (or before the Essential set's directories
        // kept their sticky and set-group-ID bits) are not taken
        String key = Seeds.sha256(depsText + "\nsandbox ids " + sandbox.stamp() + "\ninstaller 3");
        long t0 = System.nanoTime();
        String distro = distro(results);
        DiskPlan disk = DiskPlan.parse(kickstart); // an edited template's layout is refused before the work
        Initramfs.modules(kickstart); // and its module set
        TreeCache shelf = trees.of(distro);
        // an overlay on the cached tree, unless mount points of their own must take directories out of the tree
        // (a rename out of an overlay is no rename)
        boolean layered = overlay && disk.mountPoints().isEmpty() && TreeLayer.usable(shelf.dir(), tree);
        tools.progress().phase("tree");
        Path kept = layered ? shelf.hold(key, tree) : null;
        long sde = kept != null ? layer(kept, tree, tools) : -1;
        if (sde >= 0) {
            tools.note(String.format("installed tree of this package set taken from the cache (an overlay on it) "
                    + "in %d ms", (System.nanoTime() - t0) / 1_000_000));
        } else if ((sde = shelf.restore(key, tree, tools)) >= 0) {
            tools.note(String.format("installed tree of this package set taken from the cache in %d ms",
                    (System.nanoTime() - t0) / 1_000_000));
        } else {
            sde = installer.install(deps, tree, tools, distro);
            long t1 = System.nanoTime();
            // kept clamped and owned: a build over it clamps and owns only what that build writes
            FileTrees.delete(tree.resolve("var/cache/kiln")); // Kiln's own, no part of what is kept
            Hygiene.Settled settled = Hygiene.settle(tree, sde, sandbox);
            kept = layered ? shelf.adopt(key, tree, sde, settled) : null;
            if (kept == null) {
                shelf.remember(key, tree, sde, tools);
            } else if (layer(kept, tree, tools) >= 0) {
                tools.note(String.format("installed tree moved into the cache, the build goes on over it (an "
                        + "overlay) in %d ms", (System.nanoTime() - t1) / 1_000_000));
            } else if (shelf.restore(key, tree, tools) < 0) {
                throw new IOException("the installed tree moved into the cache is gone from it");
            }
        }
        Map<String, String> data = TreeCustomizations.data(
                BlueprintParser.parseToml(results.read(ResultsDir.FROZEN)).customizations());
        return finish(tree, sde, seed, kickstart, disk, data, tools);
    }

    /**
     * Mounts {@code tree} as an overlay on the cached tree {@code kept} (held for it); answers its source date
     * epoch, or -1 when the mount failed (the hold let go, the tree an empty directory to copy into).
     */
    private static long layer(Path kept, Path tree, ToolRunner tools) throws IOException, InterruptedException {
        try {
            TreeLayer.mount(kept, tree, tools);
            return TreeCache.sde(kept);
        } catch (dev.kiln.image.sandbox.ToolFailedException e) {
            TreeLayer.unhold(tree);
            tools.note("the overlay could not be mounted; the tree is copied instead: " + e.getMessage());
            return -1;
        }
    }

    private Tree finish(Path tree, long sde, UUID seed, Kickstart kickstart, DiskPlan disk, Map<String, String> data,
            ToolRunner tools) throws IOException, InterruptedException {
        tools.progress().phase("customize");
        new Customizer(tree, new Chroot(tree, tools, sandbox, sde), tools, data).apply(kickstart);
        initramfs.make(tree, kickstart, sde, sandbox, tools); // the customized tree's: its files and the type's modules
        Hygiene.clean(tree);
        Hygiene.clamp(tree, sde);
        return new Tree(tree, sde, seed, disk, sandbox);
    }
}
