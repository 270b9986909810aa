package dev.kiln.image.tree;

import dev.kiln.store.FileTrees;
import dev.kiln.image.customize.Customizer;
import dev.kiln.image.fetch.DebArchive;
import dev.kiln.image.fetch.PackageCache;
import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.kickstart.KickstartArgs;
import dev.kiln.kickstart.Kickstart;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.springframework.stereotype.Component;

/**
 * Installs a compose's frozen package set into a root tree and applies its plan ({@code final-kickstart.ks}):
 * the Essential packages and their dependencies are unpacked with {@link DebArchive}, then the tree's own dpkg
 * installs every package, maintainer scripts included, inside {@link Chroot} (no network: the packages come from
 * the cache). Then the customizations, the {@code %post} scripts, and the clean-up every image needs.
 */
@Component
public class RootTree {

    private final PackageCache cache;
    private final Sandbox sandbox;
    private final Path treeCache;
    private final int keepTrees;
    private final Path baseCache;
    private final int keepBases;
    private final Path tmpfs;
    private final String instance;

    /**
     * An installed, customized tree; {@code sourceDateEpoch} and {@code seed} make the image reproducible;
     * {@code rootSize} is the size the plan asks for the root file system ({@code part /}, from the blueprint's
     * filesystem customization), 0 when it does not.
     */
    public record Tree(Path dir, long sourceDateEpoch, UUID seed, long rootSize, Sandbox sandbox) {
    }

    /** What a package's control file says and when it was built, by the package's SHA256. */
    private record Known(Map<String, String> control, long buildTime) {
    }

    private final Map<String, Known> known = new java.util.concurrent.ConcurrentHashMap<>();

    public RootTree(PackageCache cache, Sandbox sandbox, dev.kiln.KilnProperties properties,
            @org.springframework.beans.factory.annotation.Value("${kiln.cache.trees:2}") int keepTrees,
            @org.springframework.beans.factory.annotation.Value("${kiln.cache.bases:2}") int keepBases,
            @org.springframework.beans.factory.annotation.Value("${kiln.build.tmpfs:true}") boolean useTmpfs) {
        this.cache = cache;
        this.sandbox = sandbox;
        this.keepTrees = keepTrees;
        this.keepBases = keepBases;
        Path shm = Path.of("/dev/shm");
        this.tmpfs = useTmpfs && isTmpfs(shm) ? shm : null;
        // one service's files on tmpfs carry its state directory's hash: services on one machine stay apart
        this.instance = sha256(properties.stateDir().toString()).substring(0, 12);
        this.treeCache = tmpfs != null ? tmpfsDir(properties.stateDir(), "trees")
                : properties.stateDir().resolve("cache").resolve("trees");
        this.baseCache = tmpfs != null ? tmpfsDir(properties.stateDir(), "bases")
                : properties.stateDir().resolve("cache").resolve("bases");
        if (tmpfs != null) { // trees of builds that a crash interrupted: theirs is the only copy of nothing
            try (Stream<Path> old = Files.list(tmpfs)) {
                for (Path p : old.filter(p -> p.getFileName().toString().startsWith("kiln-" + instance + "-build-")).toList()) {
                    FileTrees.delete(p);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /** {@code /dev/shm/kiln-<hash of the state directory>-<name>}: one service's files on tmpfs. */
    public static Path tmpfsDir(Path stateDir, String name) {
        return Path.of("/dev/shm", "kiln-" + sha256(stateDir.toString()).substring(0, 12) + "-" + name);
    }

    private static boolean isTmpfs(Path p) {
        try {
            return Files.isDirectory(p) && "tmpfs".equals(Files.getFileStore(p).type());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Where a compose's tree is built: on tmpfs when there is one with room for it (dpkg is much faster there),
     * else in the compose's work directory; either way in a directory only the sandbox (and the service) can enter.
     */
    private Path treeDir(ResultsDir results, List<Map<String, Object>> deps) throws IOException {
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

    public Tree build(ResultsDir results, ToolRunner tools) throws IOException, InterruptedException {
        String depsText = results.read(ResultsDir.DEPS);
        List<Map<String, Object>> deps = DepsFile.read(depsText);
        Path tree = treeDir(results, deps);
        try {
            FileTrees.delete(tree); // what an earlier attempt of this step left
            Files.createDirectories(tree.getParent());
            return install(results, tools, tree, depsText, deps);
        } catch (IOException | InterruptedException | RuntimeException e) {
            release(tree);
            FileTrees.delete(tree.resolveSibling("debs"));
            throw e;
        }
    }

    /**
     * Removes a tree this class built (and its tmpfs directory). On tmpfs, the directory is renamed out of the way
     * at once and deleted in the background (some ten thousand files: a fifth of a second the compose need not
     * wait for); what a stop interrupts, the next start removes with the other leftovers.
     */
    public static void release(Path tree) throws IOException {
        Path dir = tree.getParent();
        if (dir.getFileName().toString().matches("kiln-[0-9a-f]{12}-build-.*")) {
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Path gone = dir.resolveSibling(dir.getFileName() + ".released-" + System.nanoTime());
                Files.move(dir, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                RELEASER.execute(() -> {
                    try {
                        FileTrees.delete(gone);
                    } catch (IOException e) {
                        org.slf4j.LoggerFactory.getLogger(RootTree.class).warn("could not remove {}: {}", gone, e.toString());
                    }
                });
            }
        } else {
            FileTrees.delete(tree);
        }
    }

    private static final java.util.concurrent.ExecutorService RELEASER =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "kiln-tree-release");
                t.setDaemon(true);
                return t;
            });

    private Tree install(ResultsDir results, ToolRunner tools, Path tree, String depsText, List<Map<String, Object>> deps)
            throws IOException, InterruptedException {
        String plan = results.read(ResultsDir.FINAL_KICKSTART);
        Kickstart kickstart = Kickstart.parse(plan);
        UUID seed = seed(depsText, plan);
        Sandbox.Range range = sandbox.range(); // no build without its sandbox; the message says what to set up
        // cached trees belong to the sandbox's id range on the host: another range is another cache
        String key = sha256(depsText + "\nsandbox ids " + sandbox.stamp());
        Path cached = treeCache.resolve(key);
        if (Files.isRegularFile(cached.resolve("sde"))) {
            long t0 = System.nanoTime();
            tools.run(null, List.of("cp", "-a", cached.resolve("tree").toString(), tree.toString()));
            Files.setLastModifiedTime(cached, FileTime.fromMillis(System.currentTimeMillis()));
            long sde = Long.parseLong(Files.readString(cached.resolve("sde")).strip());
            tools.note(String.format("installed tree of this package set taken from the cache in %d ms",
                    (System.nanoTime() - t0) / 1_000_000));
            return finish(tree, sde, seed, kickstart, tools);
        }

        List<PackageCache.Wanted> wanted = new ArrayList<>();
        for (Map<String, Object> d : deps) {
            String checksum = String.valueOf(d.get("checksum"));
            wanted.add(new PackageCache.Wanted((String) d.get("name"), (String) d.get("remote_location"),
                    ((Number) d.getOrDefault("size", 0L)).longValue(),
                    checksum.startsWith("sha256:") ? checksum.substring(7) : checksum));
        }
        Map<String, Path> debs = cache.fetch(wanted, tools);

        Files.createDirectories(tree);
        long t0 = System.nanoTime();
        Map<String, String> checksums = new HashMap<>();
        wanted.forEach(w -> checksums.put(w.name(), w.sha256()));
        Map<String, Map<String, String>> controls = new java.util.concurrent.ConcurrentHashMap<>();
        Map<String, Long> built = new java.util.concurrent.ConcurrentHashMap<>();
        Work readControl = name -> {
            String sha = checksums.get(name);
            Known k = known.get(sha);
            if (k == null) { // the cache is addressed by content: what a package says never changes
                k = new Known(DebArchive.control(debs.get(name)), DebArchive.buildTime(debs.get(name)));
                if (known.size() > 50_000) {
                    known.clear();
                }
                known.put(sha, k);
            }
            controls.put(name, k.control());
            built.put(name, k.buildTime());
        };
        for (String name : parallel(List.copyOf(debs.keySet()), readControl)) {
            readControl.run(name); // again, so that a damaged package fails the build with its own error
        }
        long sde = built.values().stream().mapToLong(Long::longValue).max().orElse(0);
        List<String> essential = essentialClosure(controls);
        List<String> others = debs.keySet().stream().filter(n -> !essential.contains(n)).sorted().toList();
        // the Essential set installed is a function of its packages alone (its scripts see its own clock):
        // a base that every package set with the same Essential packages shares
        long baseSde = essential.stream().mapToLong(built::get).max().orElse(sde);
        String baseKey = sha256("kiln essential base 1\nsandbox ids " + sandbox.stamp() + "\n" + String.join("\n",
                essential.stream().sorted().map(n -> n + " " + checksums.get(n)).toList()));
        Path base = baseCache.resolve(baseKey);
        boolean fromBase = Files.isRegularFile(base.resolve("sde"));
        if (fromBase) {
            FileTrees.delete(tree);
            tools.run(null, List.of("cp", "-a", base.resolve("tree").toString(), tree.toString()));
            Files.setLastModifiedTime(base, FileTime.fromMillis(System.currentTimeMillis()));
            tools.note(String.format("Essential base (%d packages) taken from the cache in %d ms", essential.size(),
                    (System.nanoTime() - t0) / 1_000_000));
        } else {
            for (String d : List.of("bin", "sbin", "lib", "lib64")) { // bookworm's merged /usr
                Files.createDirectories(tree.resolve("usr").resolve(d));
                Files.createSymbolicLink(tree.resolve(d), Path.of("usr", d));
            }
        }
        // packages decompressed for the tree's dpkg, next to the tree (linked into it while dpkg runs)
        Path staging = tree.resolveSibling("debs");
        FileTrees.delete(staging);
        Files.createDirectories(staging);
        // on every core: each Essential package decompressed and unpacked from the decompressed copy; then, while
        // dpkg installs the Essential set on one core, the others decompressed on the rest (started only then: on
        // the cores the Essential unpacking needs they would only delay dpkg's start)
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()));
        java.util.concurrent.ExecutorService second = java.util.concurrent.Executors.newFixedThreadPool(
                Math.max(1, Runtime.getRuntime().availableProcessors() - 1));
        try {
            Map<String, java.util.concurrent.Future<Boolean>> done = new java.util.LinkedHashMap<>();
            for (String n : fromBase ? List.<String>of() : essential) {
                done.put(n, pool.submit(() -> {
                    Path d = staging.resolve(n + ".deb");
                    DebArchive.decompress(debs.get(n), d);
                    try {
                        DebArchive.extract(d, tree, range);
                        return true;
                    } catch (IOException | RuntimeException e) {
                        return false; // two packages writing one path at once: done again below, in order
                    }
                }));
            }
            if (fromBase) { // no Essential install to hide the decompression behind: dpkg does it as it goes
                for (String n : others) {
                    done.put(n, pool.submit(() -> {
                        Files.copy(debs.get(n), staging.resolve(n + ".deb"));
                        return true;
                    }));
                }
            } else {
                for (String n : essential) {
                    if (!await(done.get(n))) {
                        DebArchive.extract(staging.resolve(n + ".deb"), tree, range);
                    }
                }
                for (String n : others) {
                    done.put(n, second.submit(() -> {
                        DebArchive.decompress(debs.get(n), staging.resolve(n + ".deb"));
                        return true;
                    }));
                }
                for (String d : List.of("proc", "sys", "dev", "tmp", "var/lib/dpkg/info", "var/lib/dpkg/updates", "etc")) {
                    Files.createDirectories(tree.resolve(d));
                }
                Files.writeString(tree.resolve("var/lib/dpkg/status"), "");
                Files.writeString(tree.resolve("var/lib/dpkg/available"), "");
                Path policy = tree.resolve("usr/sbin/policy-rc.d");
                Files.writeString(policy, "#!/bin/sh\n# Kiln: no service starts while the image is built\nexit 101\n");
                policy.toFile().setExecutable(true, false);
                tools.note(String.format("unpacked %d essential packages in %d ms", essential.size(), (System.nanoTime() - t0) / 1_000_000));
                sandbox.own(tree); // what the service made here (directories, dpkg's status) becomes root's inside the sandbox
                new Chroot(tree, tools, sandbox, baseSde).run(dpkgInstall(tree, staging, essential));
                remember(baseCache, keepBases, baseKey, tree, baseSde, tools);
            }
            for (String n : others) {
                await(done.get(n));
            }
        } finally {
            pool.shutdownNow();
            second.shutdownNow();
        }
        Chroot chroot = new Chroot(tree, tools, sandbox, sde);
        List<Path> placeholders = others.contains("openssh-server") ? hostKeyPlaceholders(tree) : List.of();
        if (!others.isEmpty()) {
            chroot.run(dpkgInstall(tree, staging, others));
        }
        FileTrees.delete(staging);
        chroot.run(List.of("dpkg", "--force-unsafe-io", "--configure", "-a"));
        for (Path p : placeholders) {
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0) {
                Files.delete(p);
            }
        }
        String audit = chroot.run(List.of("dpkg", "--audit"));
        if (!audit.isBlank()) {
            throw new IOException("dpkg left packages unconfigured: " + audit.strip());
        }
        initramfs(tree, chroot, tools);
        tools.note(String.format("installed %d packages in %d ms", debs.size(), (System.nanoTime() - t0) / 1_000_000));
        remember(treeCache, keepTrees, key, tree, sde, tools);
        return finish(tree, sde, seed, kickstart, tools);
    }

    /**
     * One initramfs per installed kernel, made by the tree's own initramfs-tools once every package is configured
     * (dpkg's hooks were told not to: they would make it twice), so that it holds every module and hook the set
     * installs (live-boot's, for instance). It is part of the installed tree, hence cached with it.
     */
    private static void initramfs(Path tree, Chroot chroot, ToolRunner tools) throws IOException, InterruptedException {
        List<String> versions = kernels(tree);
        if (versions.isEmpty()) {
            return;
        }
        if (!Files.isRegularFile(tree.resolve("usr/sbin/update-initramfs"))) {
            throw new IOException("the package set has a kernel (" + versions + ") but no initramfs-tools to boot it");
        }
        for (String v : versions) {
            long t0 = System.nanoTime();
            chroot.run(List.of("update-initramfs", "-c", "-k", v));
            tools.note(String.format("initramfs for %s made in %d ms", v, (System.nanoTime() - t0) / 1_000_000));
        }
    }

    /** The kernel versions installed in a tree ({@code /boot/vmlinuz-VERSION}), oldest first. */
    static List<String> kernels(Path tree) throws IOException {
        Path boot = tree.resolve("boot");
        if (!Files.isDirectory(boot, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(boot)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("vmlinuz-"))
                    .map(n -> n.substring("vmlinuz-".length())).sorted(RootTree::compareVersions).toList();
        }
    }

    private static int compareVersions(String a, String b) {
        return dev.kiln.debian.DebVersion.compare(a, b);
    }

    private Tree finish(Path tree, long sde, UUID seed, Kickstart kickstart, ToolRunner tools)
            throws IOException, InterruptedException {
        new Customizer(tree, new Chroot(tree, tools, sandbox, sde), tools).apply(kickstart);
        clean(tree);
        clamp(tree, sde);
        long rootSize = 0;
        for (String command : kickstart.commands()) {
            KickstartArgs part = KickstartArgs.parse(command);
            if (part.command().equals("part") && part.words().contains("/")) {
                rootSize = Long.parseLong(part.options().getOrDefault("size", "0")) << 20;
            }
        }
        return new Tree(tree, sde, seed, rootSize, sandbox);
    }

    /**
     * openssh-server's postinst makes the host keys that are missing (RSA-3072 alone takes a second or more); an image
     * must not carry them ({@link #clean} deletes them, the image makes its own at first boot), so empty files stand
     * at their default paths while dpkg runs, and the postinst skips them. They are removed when dpkg is done.
     */
    private List<Path> hostKeyPlaceholders(Path tree) throws IOException {
        Path dir = tree.resolve("etc/ssh");
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            sandbox.own(dir, 0, 0); // dpkg unpacks openssh-server's files into it
        }
        List<Path> made = new ArrayList<>();
        for (String type : List.of("rsa", "ecdsa", "ed25519")) {
            Path key = dir.resolve("ssh_host_" + type + "_key");
            if (!Files.exists(key, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(key);
                made.add(key);
            }
        }
        return made;
    }

    /**
     * {@code dpkg --install} of {@code names} in the tree, the decompressed packages linked into it from
     * {@code staging} for the run and gone from it afterwards.
     */
    private List<String> dpkgInstall(Path tree, Path staging, List<String> names) throws IOException {
        Path dir = tree.resolve("var/cache/kiln/debs");
        FileTrees.delete(dir);
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of("dpkg", "--force-unsafe-io", "--force-depends", "--install"));
        for (String n : names) {
            try {
                Files.createLink(dir.resolve(n + ".deb"), staging.resolve(n + ".deb"));
            } catch (IOException | UnsupportedOperationException crossDevice) {
                Files.copy(staging.resolve(n + ".deb"), dir.resolve(n + ".deb"));
            }
            sandbox.own(dir.resolve(n + ".deb"), 0, 0); // readable by dpkg in the sandbox, whatever its mode
            command.add("/var/cache/kiln/debs/" + n + ".deb");
        }
        return command;
    }

    /**
     * Keeps a copy of a tree in a cache directory, keyed: the installed, not yet customized tree by its package set
     * (a compose that changes only customizations starts from it; {@code kiln.cache.trees} copies kept), and the
     * installed Essential base by its packages ({@code kiln.cache.bases}). The most recently used copies are kept.
     * Kiln's own files ({@code /var/cache/kiln}) are not part of the copy.
     */
    private static void remember(Path treeCache, int keepTrees, String key, Path tree, long sde, ToolRunner tools)
            throws IOException, InterruptedException {
        Path target = treeCache.resolve(key);
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(treeCache);
        Path tmp = treeCache.resolve("." + key + ".tmp");
        FileTrees.delete(tmp);
        Files.createDirectories(tmp);
        FileTrees.delete(tree.resolve("var/cache/kiln"));
        tools.run(null, List.of("cp", "-a", tree.toString(), tmp.resolve("tree").toString()));
        Files.writeString(tmp.resolve("sde"), sde + "\n");
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        List<Path> all;
        try (Stream<Path> dirs = Files.list(treeCache)) {
            all = dirs.filter(d -> !d.getFileName().toString().startsWith(".")).sorted(Comparator
                    .comparingLong((Path d) -> d.toFile().lastModified()).reversed()).toList();
        }
        for (Path old : all.subList(Math.min(keepTrees, all.size()), all.size())) {
            FileTrees.delete(old);
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private interface Work {
        void run(String name) throws IOException;
    }

    /** The result of a task of the install's pool; its failure is the build's. */
    private static <T> T await(java.util.concurrent.Future<T> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Runs {@code work} for each name on every core; answers the names whose work failed. */
    private static List<String> parallel(List<String> names, Work work) throws IOException, InterruptedException {
        List<String> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()));
        try {
            List<java.util.concurrent.Future<?>> all = new ArrayList<>();
            for (String n : names) {
                all.add(pool.submit(() -> {
                    try {
                        work.run(n);
                    } catch (IOException | RuntimeException e) {
                        failed.add(n);
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : all) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return failed;
    }

    /** The Essential packages of the set and everything they depend on (the part unpacked before dpkg runs). */
    static List<String> essentialClosure(Map<String, Map<String, String>> controls) {
        Map<String, Set<String>> provides = new HashMap<>();
        controls.forEach((name, c) -> {
            provides.computeIfAbsent(name, k -> new LinkedHashSet<>()).add(name);
            for (String p : c.getOrDefault("Provides", "").split(",")) {
                String v = p.strip().split("[ (:]")[0];
                if (!v.isEmpty()) {
                    provides.computeIfAbsent(v, k -> new LinkedHashSet<>()).add(name);
                }
            }
        });
        Set<String> closure = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        controls.keySet().stream().sorted().filter(n -> "yes".equals(controls.get(n).get("Essential"))).forEach(todo::add);
        while (!todo.isEmpty()) {
            String name = todo.poll();
            if (!closure.add(name)) {
                continue;
            }
            Map<String, String> c = controls.get(name);
            String rel = c.getOrDefault("Pre-Depends", "") + "," + c.getOrDefault("Depends", "");
            for (String group : rel.split(",")) {
                for (String alt : group.split("\\|")) {
                    String target = alt.strip().split("[ (:]")[0];
                    Set<String> found = provides.get(target);
                    if (found != null && !found.isEmpty()) {
                        todo.addAll(found);
                        break;
                    }
                }
            }
        }
        return new ArrayList<>(closure);
    }

    /** No machine identity, no host keys, no package caches or logs from the build. */
    static void clean(Path tree) throws IOException {
        Files.writeString(tree.resolve("etc/machine-id"), "");
        Path dbusId = tree.resolve("var/lib/dbus/machine-id");
        if (Files.exists(dbusId, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(dbusId)) {
            Files.delete(dbusId);
        }
        for (String glob : List.of("etc/ssh", "var/lib/apt/lists", "var/cache/apt", "var/log", "var/log/apt",
                "var/cache/debconf", "var/lib/dpkg", "var/cache/ldconfig", "tmp", "var/tmp")) {
            Path dir = tree.resolve(glob);
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    String n = f.getFileName().toString();
                    boolean drop = switch (glob) {
                        case "etc/ssh" -> n.startsWith("ssh_host_");
                        case "var/lib/apt/lists" -> !n.equals("partial") && !n.equals("lock");
                        case "var/cache/apt" -> n.endsWith(".bin");
                        case "var/log", "var/log/apt" -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS);
                        case "var/cache/debconf", "var/lib/dpkg" -> n.endsWith("-old");
                        case "var/cache/ldconfig" -> n.equals("aux-cache");
                        default -> true;
                    };
                    if (drop) {
                        FileTrees.delete(f);
                    }
                }
            }
        }
        FileTrees.delete(tree.resolve("var/cache/kiln"));
        Files.deleteIfExists(tree.resolve("usr/sbin/policy-rc.d"));
        if (Files.exists(tree.resolve("usr/sbin/sshd"))) {
            sshKeysAtFirstBoot(tree);
        }
    }

    /**
     * The image carries no SSH host keys, so each machine makes its own: a unit that runs {@code ssh-keygen -A}
     * before the SSH server when they are missing (cloud-init does the same on cloud images, first).
     */
    private static void sshKeysAtFirstBoot(Path tree) throws IOException {
        String unit = "kiln-ssh-keygen.service";
        Path units = tree.resolve("etc/systemd/system");
        Files.createDirectories(units.resolve("ssh.service.wants"));
        Files.writeString(units.resolve(unit), """
                [Unit]
                Description=Generate the SSH host keys this machine does not have yet
                ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
                Before=ssh.service
                After=cloud-init.service

                [Service]
                Type=oneshot
                ExecStart=/usr/bin/ssh-keygen -A

                [Install]
                WantedBy=ssh.service
                """);
        Path link = units.resolve("ssh.service.wants").resolve(unit);
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("/etc/systemd/system", unit));
    }

    /**
     * Clamps the times of files an image builder wrote into a clamped tree, and of their directories up to the
     * tree's root, as {@link #clamp} did for the rest.
     */
    public static void clampWritten(Path tree, long sde, Path... written) throws IOException {
        FileTime t = FileTime.fromMillis(sde * 1000);
        Set<Path> done = new java.util.HashSet<>();
        for (Path p : written) {
            for (Path q = p; q != null && q.startsWith(tree) && done.add(q); q = q.getParent()) {
                Files.getFileAttributeView(q, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, t, null);
            }
        }
    }

    /** Clamps every time in the tree to the newest package's build time, so that two builds are identical. */
    static void clamp(Path tree, long sde) throws IOException {
        FileTime limit = FileTime.fromMillis(sde * 1000);
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.toList()) {
                BasicFileAttributeView view = Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                FileTime m = view.readAttributes().lastModifiedTime();
                FileTime t = m.compareTo(limit) > 0 ? limit : m;
                view.setTimes(t, t, null);
            }
        }
    }

    /** A UUID (version 4 layout) made of the first 16 bytes of a digest. */
    public static UUID uuidOf(byte[] h) {
        h[6] = (byte) ((h[6] & 0x0f) | 0x40);
        h[8] = (byte) ((h[8] & 0x3f) | 0x80);
        String hex = HexFormat.of().formatHex(h, 0, 16);
        return UUID.fromString(hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20, 32));
    }

    /**
     * The newest kernel of a tree, which {@code what} (a disk, a live image) boots; an error naming the template
     * when there is none, or no initramfs for it.
     */
    public static String bootKernel(Path tree, String what) throws IOException {
        List<String> versions = kernels(tree);
        if (versions.isEmpty()) {
            throw new IOException(what + " boots a kernel, and the package set has none: the type's kickstart "
                    + "template must list linux-image-amd64 in %packages");
        }
        String kernel = versions.get(versions.size() - 1);
        if (!Files.isRegularFile(tree.resolve("boot/initrd.img-" + kernel))) {
            throw new IOException("no initramfs for kernel " + kernel + " in the tree");
        }
        return kernel;
    }

    /** A seed derived from the frozen set and the plan: the same compose gives the same file-system UUID. */
    static UUID seed(String deps, String plan) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(deps.getBytes(StandardCharsets.UTF_8));
            sha.update(plan.replaceAll("(?m)^# final-kickstart.ks of compose [^\\n]*$", "").getBytes(StandardCharsets.UTF_8));
            return uuidOf(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
