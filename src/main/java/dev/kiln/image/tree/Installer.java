package dev.kiln.image.tree;

import dev.kiln.image.fetch.DebArchive;
import dev.kiln.image.fetch.PackageCache;
import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.FreeCores;
import dev.kiln.image.sandbox.OneCore;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolFailedException;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.FileTrees;
import dev.kiln.store.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Installs a frozen package set into an empty tree: the packages fetched ({@link PackageCache}), the Essential set
 * and what it needs unpacked with {@link DebArchive} (or taken from a cached base), then the tree's own dpkg
 * installing every package, maintainer scripts included, inside {@link Chroot} (no network: the packages come from
 * the cache). The initramfs is made later, for the customized tree ({@link Initramfs}).
 */
final class Installer {

    /** What a package's control file says and when it was built, by the package's SHA256. */
    private record Known(Map<String, String> control, long buildTime) {
    }

    /** Where the packages dpkg installs lie in the tree while it runs. */
    private static final String DEBS = "var/cache/kiln/debs";

    private final PackageCache cache;
    private final Sandbox sandbox;
    private final TreeCache bases;
    private final Map<String, Known> known = new ConcurrentHashMap<>();

    Installer(PackageCache cache, Sandbox sandbox, TreeCache bases) {
        this.cache = cache;
        this.sandbox = sandbox;
        this.bases = bases;
    }

    /** Installs {@code deps} (the frozen set's entries) into {@code tree}; answers the tree's source date epoch. */
    long install(List<Map<String, Object>> deps, Path tree, ToolRunner tools, String distro)
            throws IOException, InterruptedException {
        TreeCache bases = this.bases.of(distro);
        Sandbox.Range range = sandbox.range(); // no build without its sandbox; the message says what to set up
        List<PackageCache.Wanted> wanted = new ArrayList<>();
        for (Map<String, Object> d : deps) {
            String checksum = String.valueOf(d.get("checksum"));
            wanted.add(new PackageCache.Wanted((String) d.get("name"), (String) d.get("remote_location"),
                    ((Number) d.getOrDefault("size", 0L)).longValue(),
                    checksum.startsWith("sha256:") ? checksum.substring(7) : checksum));
        }
        // the cores free, measured while the packages are fetched, their control files read and the base restored
        // (the window's time is spent on the build's own work, never waited for when that takes long enough)
        FreeCores.Window window = FreeCores.start();
        Map<String, Path> debs = cache.fetch(wanted, tools);

        Files.createDirectories(tree);
        long t0 = System.nanoTime();
        Map<String, String> checksums = new HashMap<>();
        wanted.forEach(w -> checksums.put(w.name(), w.sha256()));
        Map<String, Map<String, String>> controls = new ConcurrentHashMap<>();
        Map<String, Long> built = new ConcurrentHashMap<>();
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
        for (String name : parallel(List.copyOf(debs.keySet()), readControl,
                Runtime.getRuntime().availableProcessors())) { // mostly known already: no pool to size
            readControl.run(name); // again, so that a damaged package fails the build with its own error
        }
        long sde = built.values().stream().mapToLong(Long::longValue).max().orElse(0);
        List<String> essential = EssentialSet.closure(controls);
        List<String> others = debs.keySet().stream().filter(n -> !essential.contains(n)).sorted().toList();
        // the Essential set installed is a function of its packages alone (its scripts see its own clock):
        // a base that every package set with the same Essential packages shares
        long baseSde = essential.stream().mapToLong(built::get).max().orElse(sde);
        String baseKey = Seeds.sha256("kiln essential base 2\nsandbox ids " + sandbox.stamp() + "\n" + String.join("\n",
                essential.stream().sorted().map(n -> n + " " + checksums.get(n)).toList()));
        boolean fromBase = bases.restore(baseKey, tree, tools) >= 0;
        if (fromBase) {
            tools.note(String.format("Essential base (%d packages) taken from the cache in %d ms", essential.size(),
                    (System.nanoTime() - t0) / 1_000_000));
        } else {
            for (String d : List.of("bin", "sbin", "lib", "lib64")) { // bookworm's merged /usr
                Files.createDirectories(tree.resolve("usr").resolve(d));
                Files.createSymbolicLink(tree.resolve(d), Path.of("usr", d));
            }
        }
        int cores = window.free();
        if (cores < Runtime.getRuntime().availableProcessors()) {
            tools.note(String.format("%d of %d cores free (the rest busy with other work): the install uses %d",
                    cores, Runtime.getRuntime().availableProcessors(), cores));
        }
        Progress progress = tools.progress();
        DpkgWatch watch = new DpkgWatch(tree, progress, fromBase ? others : debs.keySet());
        try {
            installAll(tree, tools, range, debs, essential, others, fromBase, baseKey, baseSde, sde, bases, watch,
                    cores);
        } finally {
            watch.close();
        }
        tools.note(String.format("installed %d packages in %d ms", debs.size(), (System.nanoTime() - t0) / 1_000_000));
        return sde;
    }

    private void installAll(Path tree, ToolRunner tools, Sandbox.Range range, Map<String, Path> debs,
            List<String> essential, List<String> others, boolean fromBase, String baseKey, long baseSde, long sde,
            TreeCache bases, DpkgWatch watch, int cores) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        // where the ahead copies of the packages are made, next to the tree (renamed into it while dpkg runs)
        Path staging = tree.resolveSibling("debs");
        FileTrees.delete(staging);
        Files.createDirectories(staging);
        // each package's plain form (data.tar uncompressed: dpkg does not decompress), from the cache or made now
        Map<String, Path> plain = new ConcurrentHashMap<>();
        // on every free core: each Essential package unpacked from its plain form; then, while dpkg installs the
        // Essential set on one core, the others' plain forms on the rest (started only then: on the cores the
        // Essential unpacking needs they would only delay dpkg's start)
        ExecutorService pool = Executors.newFixedThreadPool(cores);
        ExecutorService second = Executors.newFixedThreadPool(Math.max(1, cores - 1));
        try {
            Map<String, Future<Boolean>> done = new LinkedHashMap<>();
            for (String n : fromBase ? List.<String>of() : essential) {
                done.put(n, pool.submit(() -> {
                    Path p = cache.plain(debs.get(n));
                    plain.put(n, p);
                    try {
                        DebArchive.extract(p, tree, range);
                        return true;
                    } catch (IOException | RuntimeException e) {
                        return false; // two packages writing one path at once: done again below, in order
                    }
                }));
            }
            if (!fromBase) {
                for (String n : essential) {
                    if (!await(done.get(n))) {
                        DebArchive.extract(plain.get(n), tree, range);
                    }
                    watch.unpackedBefore(n);
                }
                for (String n : others) {
                    done.put(n, second.submit(() -> {
                        plain.put(n, cache.plain(debs.get(n)));
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
                dpkg(new Chroot(tree, tools, sandbox, baseSde), dpkgInstall(tree, essential, copyOf(plain)));
                bases.remember(baseKey, tree, baseSde, tools);
                for (String n : others) {
                    await(done.get(n));
                }
            }
        } finally {
            pool.shutdownNow();
            second.shutdownNow();
        }
        Chroot chroot = new Chroot(tree, tools, sandbox, sde);
        List<Path> placeholders = others.contains("openssh-server") ? hostKeyPlaceholders(tree) : List.of();
        // a kernel's module index made beside dpkg, once the set is unpacked (DepmodAhead)
        DepmodAhead depmod = DepmodAhead.start(tree, others, chroot, tools, watch, sandbox);
        // its configure (dpkg and every process it starts) on one core (OneCore)
        int configuredBefore = watch.configures();
        OneCore oneCore = OneCore.prepare(() -> watch.configures() > configuredBefore, tools::note);
        String said = "";
        try {
            Chroot installing = depmod == null ? chroot : depmod.chroot();
            if (oneCore != null) {
                installing = installing.whenStarted(oneCore::attach);
            }
            if (fromBase && !others.isEmpty()) {
                said = installDecompressingAhead(installing, tools, tree, staging, others, debs, watch, cores);
            } else if (!others.isEmpty()) {
                said = dpkg(installing, dpkgInstall(tree, others, copyOf(plain)));
            }
        } finally {
            if (oneCore != null) {
                oneCore.close();
            }
            if (depmod != null) {
                depmod.close();
            }
        }
        if (depmod != null) {
            depmod.report(said);
        }
        FileTrees.delete(staging);
        dpkg(chroot, List.of("dpkg", "--force-unsafe-io", "--configure", "-a"));
        for (Path p : placeholders) {
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.size(p) == 0) {
                Files.delete(p);
            }
        }
        String audit = chroot.run(List.of("dpkg", "--audit"));
        if (!audit.isBlank()) {
            throw new IOException("dpkg left packages unconfigured: " + audit.strip());
        }
    }

    /**
     * Places a package's plain form: copied, never linked (a link to the package cache would let the sandbox write
     * the cache's file).
     */
    private static Placer copyOf(Map<String, Path> plain) {
        return (n, target) -> Files.copy(plain.get(n), target);
    }

    /**
     * openssh-server's postinst makes the host keys that are missing (RSA-3072 alone takes a second or more); an image
     * must not carry them ({@link Hygiene} deletes them, the image makes its own at first boot), so empty files stand
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
     * Runs dpkg in the tree; answers what it said. A failure names the package and the script that failed
     * ({@link DpkgErrors}).
     */
    private static String dpkg(Chroot chroot, List<String> command) throws IOException, InterruptedException {
        try {
            return chroot.run(command);
        } catch (ToolFailedException e) {
            throw DpkgErrors.explain(e);
        }
    }

    /** Puts package {@code name}'s {@code .deb} at {@code target}, in the tree. */
    private interface Placer {
        void place(String name, Path target) throws IOException;
    }

    /**
     * {@code dpkg --install} of {@code names}, each placed in the tree's {@code /var/cache/kiln/debs} by {@code place}
     * and made readable by dpkg in the sandbox, whatever its mode.
     */
    private List<String> dpkgInstall(Path tree, List<String> names, Placer place) throws IOException {
        Path dir = tree.resolve(DEBS);
        FileTrees.delete(dir);
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of("dpkg", "--force-unsafe-io", "--force-depends", "--install"));
        for (String n : names) {
            place.place(n, dir.resolve(n + ".deb"));
            sandbox.own(dir.resolve(n + ".deb"), 0, 0);
            command.add("/" + DEBS + "/" + n + ".deb");
        }
        return command;
    }

    /**
     * {@code dpkg --install} of {@code others} in a tree from a cached base, with no Essential install to hide the
     * packages' preparation behind: dpkg starts at once on the packages as fetched, from the first, while the other
     * cores put each package's plain form (from the cache, or decompressed into it now) in its place, renamed over
     * dpkg's copy unless dpkg has reached it (dpkg reads whichever copy it opens: the same package either way); the
     * cheap first (plain forms in the cache, in dpkg's order), then the ones to decompress, most saved first
     * ({@link #aheadOrder}). A plain form dpkg did not wait for is still made while dpkg runs, for the next build. A
     * preparation that fails costs nothing but its time: dpkg has the package as fetched. Answers what dpkg said.
     */
    private String installDecompressingAhead(Chroot chroot, ToolRunner tools, Path tree, Path staging,
            List<String> others, Map<String, Path> debs, DpkgWatch watch, int cores)
            throws IOException, InterruptedException {
        Set<String> cached = others.stream().filter(n -> cache.hasPlain(debs.get(n))).collect(Collectors.toSet());
        String said = cached.size() == others.size() ? installReadingPlainForms(chroot, tools, tree, others, debs)
                : null;
        if (said != null) {
            return said;
        }
        // copied, never linked: a link to the package cache would let the sandbox write the cache's file
        List<String> command = dpkgInstall(tree, others, (n, target) -> Files.copy(debs.get(n), target));
        Path dir = tree.resolve(DEBS);
        AtomicBoolean over = new AtomicBoolean();
        AtomicInteger renamed = new AtomicInteger();
        AtomicInteger made = new AtomicInteger();
        List<String> order = new ArrayList<>(others.stream().filter(cached::contains).toList());
        order.addAll(aheadOrder(others, debs).stream().filter(n -> !cached.contains(n)).toList());
        ExecutorService ahead = Executors.newFixedThreadPool(Math.max(1, cores - 1));
        try {
            for (String n : order) {
                ahead.submit(() -> {
                    if (over.get()) {
                        return null;
                    }
                    boolean had = cached.contains(n);
                    Path p = cache.plain(debs.get(n));
                    if (!had) {
                        made.incrementAndGet();
                    }
                    if (over.get() || watch.reached(n)) {
                        return null;
                    }
                    Path d = staging.resolve(n + ".deb");
                    Files.copy(p, d, StandardCopyOption.REPLACE_EXISTING);
                    sandbox.own(d, 0, 0);
                    if (!over.get() && !watch.reached(n)) {
                        Files.move(d, dir.resolve(n + ".deb"), StandardCopyOption.ATOMIC_MOVE,
                                StandardCopyOption.REPLACE_EXISTING);
                        renamed.incrementAndGet();
                    }
                    return null;
                });
            }
            said = dpkg(chroot, command);
            tools.note(String.format("%d of %d packages handed to dpkg decompressed (%d plain forms were cached, "
                    + "%d made now)", renamed.get(), others.size(), cached.size(), made.get()));
            return said;
        } finally {
            over.set(true); // the tasks not started end at once; one running finishes its package (a second or less)
            ahead.shutdown();
            if (!ahead.awaitTermination(2, TimeUnit.MINUTES)) {
                ahead.shutdownNow();
            }
        }
    }

    /**
     * {@code dpkg --install} of {@code others} when each has its plain form in the cache: dpkg reads them where they
     * are, bound read-only into the tree (held by hard links, {@link PackageCache#hold}: no eviction takes one away
     * meanwhile), none copied; a copy puts them in memory again (560 MB of a bootable set's), on a core dpkg's own
     * work could use. Answers what dpkg said; null, nothing done, when they cannot be held (the caller copies).
     */
    private String installReadingPlainForms(Chroot chroot, ToolRunner tools, Path tree, List<String> others,
            Map<String, Path> debs) throws IOException, InterruptedException {
        Map<String, Path> named = new LinkedHashMap<>();
        others.forEach(n -> named.put(n, debs.get(n)));
        Path held = cache.hold(named);
        if (held == null) {
            return null;
        }
        try {
            Path dir = tree.resolve(DEBS);
            FileTrees.delete(dir);
            Files.createDirectories(dir);
            Map<String, Path> binds = new HashMap<>();
            List<String> command = new ArrayList<>(List.of("dpkg", "--force-unsafe-io", "--force-depends", "--install"));
            for (String n : others) {
                Path spot = dir.resolve(n + ".deb");
                Files.createFile(spot); // where the plain form is bound
                binds.put("/" + DEBS + "/" + n + ".deb", held.resolve(n + ".deb"));
                command.add("/" + DEBS + "/" + n + ".deb");
            }
            String said;
            try {
                said = chroot.runReading(command, binds);
            } catch (ToolFailedException e) {
                throw DpkgErrors.explain(e);
            }
            tools.note(String.format("%d of %d packages handed to dpkg decompressed (%d plain forms were cached, "
                    + "0 made now), bound read-only from the cache", others.size(), others.size(), others.size()));
            return said;
        } finally {
            FileTrees.delete(held);
        }
    }

    /**
     * The order the other cores decompress packages in, ahead of dpkg: most saved first, where what a package saves
     * dpkg is its size (its decompression, on dpkg's one core) and the chance that dpkg has not reached it yet grows
     * with its place in dpkg's order. So a large package late in the order (a kernel: a third of a bootable set's
     * unpack) is done first, then the rest from the last backwards as sizes allow.
     */
    static List<String> aheadOrder(List<String> order, Map<String, Path> debs) {
        Map<String, Double> saved = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            long size;
            try {
                size = Files.size(debs.get(order.get(i)));
            } catch (IOException e) {
                size = 0;
            }
            saved.put(order.get(i), size * (i + 1.0) / order.size());
        }
        List<String> ahead = new ArrayList<>(order);
        ahead.sort((a, b) -> Double.compare(saved.get(b), saved.get(a)));
        return ahead;
    }

    private interface Work {
        void run(String name) throws IOException;
    }

    /** The result of a task of the install's pool; its failure is the build's. */
    private static <T> T await(Future<T> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Runs {@code work} for each name on {@code cores} threads; answers the names whose work failed. */
    private static List<String> parallel(List<String> names, Work work, int cores)
            throws IOException, InterruptedException {
        List<String> failed = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(cores);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (String n : names) {
                all.add(pool.submit(() -> {
                    try {
                        work.run(n);
                    } catch (IOException | RuntimeException e) {
                        failed.add(n);
                    }
                }));
            }
            for (Future<?> f : all) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return failed;
    }

}
