package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * What every image needs once its tree is customized: no machine identity, host keys, package caches or build
 * logs, SSH host keys made at first boot, and every time clamped to the newest package's build time.
 */
public final class Hygiene {

    /** The threads of a whole tree's walk. */
    public static final int WALKERS = Math.min(4, Runtime.getRuntime().availableProcessors());

    private Hygiene() {
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
        Set<Path> done = new HashSet<>();
        for (Path p : written) {
            for (Path q = p; q != null && q.startsWith(tree) && done.add(q); q = q.getParent()) {
                Files.getFileAttributeView(q, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, t, null);
            }
        }
    }

    /**
     * Clamps every modification time in the tree to the newest package's build time, so that two builds are
     * identical; a directory gets exactly that time, since what it had depends on which package touched it last, and
     * the Essential set is unpacked in parallel. A path whose modification time is right is left alone whatever its
     * access time: reading a file moves that (relatime), and no image keeps it (tar and squashfs hold modification
     * times, debugfs sets ext4's access and change times); over the tree cache (an overlay) a time set copies the
     * file's metadata up, so the clamp of a build touches only what the build changed.
     */
    static void clamp(Path tree, long sde) throws IOException {
        FileTime limit = FileTime.fromMillis(sde * 1000);
        List<Path> changed = TreeLayer.changed(tree); // over the cached tree (clamped when kept): what was written
        if (changed == null) {
            FileTrees.visit(tree, (p, now) -> clamp(p, now, limit)); // each path's attributes read once, by the walk
        } else {
            for (Path p : changed) {
                clamp(p, Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), limit);
            }
        }
    }

    /** What a kept tree's files take: {@code bytes} as the tree cache counts them, {@code usage} as {@link Tree#usage}. */
    record Settled(long bytes, long usage) {
    }

    /**
     * The installed tree made ready to be kept: clamped ({@link #clamp}) and every file given the ids the sandbox
     * sees (what the service wrote, {@link Sandbox#own}), in one walk, so that a build over it clamps and owns only
     * what it writes; answers what its files take (sizes rounded up to 4 KiB; and a block more per path).
     */
    static Settled settle(Path tree, long sde, Sandbox sandbox) throws IOException {
        FileTime limit = FileTime.fromMillis(sde * 1000);
        LongAdder bytes = new LongAdder();
        LongAdder paths = new LongAdder();
        FileTrees.visit(tree, WALKERS, (p, now) -> { // on every core: nothing else can start before it ends
            clamp(p, now, limit);
            sandbox.ownEach(List.of(p));
            bytes.add(now.isRegularFile() ? (now.size() + 4095) / 4096 * 4096 : 0);
            paths.increment();
        });
        return new Settled(bytes.sum(), bytes.sum() + paths.sum() * 4096);
    }

    private static void clamp(Path p, BasicFileAttributes now, FileTime limit) throws IOException {
        FileTime m = now.lastModifiedTime();
        FileTime t = now.isDirectory() || m.compareTo(limit) > 0 ? limit : m;
        if (!m.equals(t)) { // most files have it already
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, t, null);
        }
    }

}
