package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.kickstart.Kickstart;
import dev.kiln.kickstart.KickstartArgs;
import dev.kiln.kickstart.PlanException;
import dev.kiln.store.AtomicFiles;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The initramfs of each kernel of a tree, made by the tree's own initramfs-tools once the tree is customized, with
 * the module set the type's template names ({@code initramfs --modules=virtio_blk,…}: {@code MODULES=list}, the
 * root file system's modules added) or, without that command, initramfs-tools' {@code MODULES=most}; the choice is
 * written into the image's {@code /etc/initramfs-tools}, so that {@code update-initramfs} on the machine makes the
 * same.
 *
 * <p>An initramfs is cached across package sets. Its key is what decides what goes in: the kernel (its version,
 * config and module index), initramfs-tools' hooks, scripts and configuration, the tools that pack it and the
 * configuration files its hooks read ({@code /etc/fstab}, {@code /etc/crypttab}, the library paths). Each entry
 * keeps the list of the tree's files it holds with their content, mode and time; it serves a tree whose files are
 * the same. It is made with {@code SOURCE_DATE_EPOCH} taken from the key's files, so that a cached initramfs and one
 * made afresh are the same bytes.
 */
public final class Initramfs {

    /** A kernel module's name as modprobe knows it. */
    private static final Pattern MODULE = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /** What every root file system Kiln makes needs: ext4 (and its checksums) and device-mapper for LVM. */
    static final List<String> ROOT_MODULES = List.of("ext4", "crc32c_generic", "dm_mod");
    private static final String KEY_VERSION = "kiln initramfs 1";

    private final Path dir;
    private final int keep;

    /** {@code dir}: the cache; at most {@code keep} initramfs images are kept, the least recently used go. */
    Initramfs(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    /**
     * The modules the plan's {@code initramfs} command names, with the root file system's; null when the plan has
     * none (MODULES=most). An error names what is wrong with the command.
     */
    public static List<String> modules(Kickstart plan) throws PlanException {
        String line = plan.command("initramfs");
        if (line == null) {
            return null;
        }
        KickstartArgs a = KickstartArgs.parse(line);
        if (!a.words().isEmpty() || !a.options().keySet().equals(java.util.Set.of("modules"))) {
            throw new PlanException("the template's initramfs command takes one option, --modules=NAME,…: "
                    + line);
        }
        List<String> names = new ArrayList<>(a.list("modules"));
        if (names.isEmpty() || names.size() > 200) {
            throw new PlanException("the template's initramfs command names 1 to 200 modules: " + line);
        }
        for (String n : names) {
            if (!MODULE.matcher(n).matches()) {
                throw new PlanException("the template's initramfs command names a module that is not a "
                        + "module name (letters, digits, _ and -, at most 64): " + n.replaceAll("[^\\x20-\\x7e]", "?"));
            }
        }
        for (String n : ROOT_MODULES) {
            if (!names.contains(n)) {
                names.add(n);
            }
        }
        return List.copyOf(names);
    }

    /** Makes (or takes from the cache) the initramfs of each kernel of {@code tree}. */
    void make(Path tree, Kickstart plan, long treeSde, Sandbox sandbox, ToolRunner tools)
            throws IOException, InterruptedException {
        List<String> versions = Kernels.kernels(tree);
        if (versions.isEmpty()) {
            return;
        }
        if (!Files.isRegularFile(tree.resolve("usr/sbin/update-initramfs"), LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the package set has a kernel (" + versions + ") but no initramfs-tools to boot it");
        }
        List<String> modules = modules(plan);
        configure(tree, modules, versions.get(versions.size() - 1));
        for (String v : versions) {
            long t0 = System.nanoTime();
            Files.deleteIfExists(tree.resolve("boot/initrd.img-" + v)); // an earlier Kiln's cached tree had one
            Map<String, String> inputs = inputs(tree, v, treeSde);
            // the clock of the initramfs: its packages' newest file among what decides it, so that every package set
            // sharing them makes the same bytes (files a script or the blueprint wrote are clamped to it)
            long sde = 0;
            for (String entry : inputs.values()) {
                String t = entry.substring(entry.lastIndexOf(' ') + 1);
                if (!t.equals("new")) {
                    sde = Math.max(sde, Long.parseLong(t));
                }
            }
            if (sde == 0) {
                sde = treeSde;
            }
            StringBuilder k = new StringBuilder(KEY_VERSION + "\nkernel " + v + "\n");
            inputs.forEach((p, e) -> k.append(p).append(' ').append(e).append('\n'));
            String key = Seeds.sha256(k.toString());
            Path entries = dir.resolve(key);
            boolean hooks = hasPostUpdateHooks(tree); // their side effects are not in the cache: always run them
            if (!hooks && take(entries, tree, v, sde, sandbox)) {
                tools.note(String.format("initramfs for %s (%s) taken from the cache in %d ms", v,
                        modules == null ? "MODULES=most" : modules.size() + " modules", (System.nanoTime() - t0) / 1_000_000));
                continue;
            }
            tools.progress().phase("initramfs");
            Chroot chroot = new Chroot(tree, tools, sandbox, sde);
            chroot.run(List.of("update-initramfs", "-c", "-k", v));
            tools.note(String.format("initramfs for %s (%s) made in %d ms", v,
                    modules == null ? "MODULES=most" : modules.size() + " modules", (System.nanoTime() - t0) / 1_000_000));
            if (!hooks) {
                // its members, unpacked by the tree's own unmkinitramfs (whatever the compression): the manifest is
                // the tree's files they are copies of
                Path unpacked = tree.resolve("tmp/kiln-initramfs");
                FileTrees.delete(unpacked);
                try {
                    chroot.run(List.of("unmkinitramfs", "/boot/initrd.img-" + v, "/tmp/kiln-initramfs"));
                    remember(entries, tree, v, sde, unpacked);
                } finally {
                    FileTrees.delete(unpacked);
                }
            }
        }
    }

    /** The module set, written where initramfs-tools reads it, with the kernel's time (a package's). */
    private static void configure(Path tree, List<String> modules, String kernel) throws IOException {
        Path conf = tree.resolve("etc/initramfs-tools/conf.d/kiln-modules.conf");
        Path list = tree.resolve("etc/initramfs-tools/modules");
        if (modules == null) {
            return;
        }
        Files.createDirectories(conf.getParent());
        write(conf, "# Kiln: the initramfs holds the modules listed in /etc/initramfs-tools/modules (the image type's)\n"
                + "MODULES=list\n");
        String before = Files.isRegularFile(list, LinkOption.NOFOLLOW_LINKS) ? Files.readString(list) : "";
        if (!before.isEmpty() && !before.endsWith("\n")) {
            before += "\n";
        }
        write(list, before + "# Kiln: the modules this image type boots with (its kickstart template's initramfs command)\n"
                + String.join("\n", modules) + "\n");
        FileTime t = Files.getLastModifiedTime(tree.resolve("boot/vmlinuz-" + kernel), LinkOption.NOFOLLOW_LINKS);
        Files.setLastModifiedTime(conf, t);
        Files.setLastModifiedTime(list, t);
    }

    private static void write(Path p, String text) throws IOException {
        if (Files.isSymbolicLink(p)) {
            Files.delete(p);
        }
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }

    private static boolean hasPostUpdateHooks(Path tree) throws IOException {
        Path d = tree.resolve("etc/initramfs/post-update.d");
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (Stream<Path> s = Files.list(d)) {
            return s.findAny().isPresent();
        }
    }

    /**
     * What decides an initramfs's content besides the files it copies, path → "sha256 mode mtime": initramfs-tools
     * and its configuration, the kernel's configuration and module index, the packing tools and the configuration
     * the hooks read.
     */
    static Map<String, String> inputs(Path tree, String kernel, long treeSde) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String d : List.of("usr/share/initramfs-tools", "etc/initramfs-tools", "etc/ld.so.conf.d",
                "etc/modprobe.d", "usr/lib/modprobe.d", "etc/initramfs")) {
            Path root = tree.resolve(d);
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.sorted().toList()) {
                    String rel = tree.relativize(p).toString();
                    if (Files.isSymbolicLink(p)) {
                        out.put(rel, "link:" + Files.readSymbolicLink(p) + " 0 " + time(p, treeSde));
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        out.put(rel, describe(p, treeSde));
                    }
                }
            }
        }
        String m = (Files.isDirectory(tree.resolve("usr/lib/modules/" + kernel), LinkOption.NOFOLLOW_LINKS) ? "usr/" : "")
                + "lib/modules/" + kernel + "/";
        for (String f : List.of("boot/config-" + kernel, m + "modules.dep", m + "modules.builtin", m + "modules.order",
                m + "modules.softdep", m + "modules.builtin.modinfo", "usr/sbin/mkinitramfs", "usr/sbin/update-initramfs",
                "usr/bin/cpio", "usr/bin/gzip", "usr/bin/zstd", "usr/bin/xz", "usr/bin/lz4", "usr/bin/lzop",
                "usr/bin/bzip2", "etc/fstab", "etc/crypttab", "etc/ld.so.conf")) {
            Path p = tree.resolve(f);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                out.put(f, describe(p, treeSde));
            }
        }
        return out;
    }

    private static long mtime(Path p) throws IOException {
        return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() / 1000;
    }

    /** "sha256 mode time" of a regular file ({@link #time}). */
    private static String describe(Path p, long treeSde) throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return AtomicFiles.sha256(p) + " " + Integer.toOctalString(mode & 07777) + " " + time(p, treeSde);
    }

    /**
     * A file's time as the key knows it: a package's time (no later than the tree's clock), or "new" for one a
     * maintainer script or the blueprint wrote during the build (its time is the build's, clamped in the image).
     */
    private static String time(Path p, long treeSde) throws IOException {
        long t = mtime(p);
        return t > treeSde ? "new" : String.valueOf(t);
    }

    /**
     * The tree's file an initramfs member may be a copy of, or null: a regular file reached inside the tree (the
     * merged /usr's links followed; a link out of the tree is not).
     */
    private static Path source(Path tree, Path realTree, String member) {
        Path p = tree.resolve(member).normalize();
        if (!p.startsWith(tree)) {
            return null;
        }
        try {
            Path real = p.toRealPath();
            return real.startsWith(realTree) && Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) ? real : null;
        } catch (IOException e) {
            return null; // made by a hook
        }
    }

    /** Stores the initramfs of kernel {@code v} with its manifest: each of its files that is a file of the tree. */
    private void remember(Path entries, Path tree, String v, long sde, Path unpacked) throws IOException {
        Path realTree = tree.toRealPath();
        // with an early (microcode) archive, unmkinitramfs puts the two in early/ and main/
        List<Path> roots = Files.isDirectory(unpacked.resolve("main"), LinkOption.NOFOLLOW_LINKS)
                ? List.of(unpacked.resolve("early"), unpacked.resolve("main")) : List.of(unpacked);
        Map<String, Path> members = new TreeMap<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                        .forEach(f -> members.putIfAbsent(root.relativize(f).toString(), f));
            }
        }
        StringBuilder manifest = new StringBuilder();
        for (Map.Entry<String, Path> m : members.entrySet()) {
            Path src = source(tree, realTree, m.getKey());
            if (src == null || Files.size(src) != Files.size(m.getValue())) {
                continue;
            }
            String sha = AtomicFiles.sha256(src);
            if (!sha.equals(AtomicFiles.sha256(m.getValue()))) {
                continue; // made by the initramfs itself (its ld.so.cache, busybox's links), not the tree's file
            }
            int mode = (Integer) Files.getAttribute(src, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            manifest.append(realTree.relativize(src)).append('\t').append(sha).append(' ')
                    .append(Integer.toOctalString(mode & 07777)).append(' ').append(Math.min(mtime(src), sde)).append('\n');
        }
        String id = Seeds.sha256(manifest.toString()).substring(0, 32);
        Files.createDirectories(entries);
        Path img = entries.resolve(id + ".img");
        Path tmp = entries.resolve(id + ".img." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        Path made = tree.resolve("boot/initrd.img-" + v);
        Files.copy(made, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(made));
        Files.move(tmp, img, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Path mtmp = entries.resolve(id + ".manifest." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        Files.writeString(mtmp, manifest);
        Files.move(mtmp, entries.resolve(id + ".manifest"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        evict();
    }

    /** Copies a cached initramfs whose manifest the tree matches into the tree, as update-initramfs would. */
    private boolean take(Path entries, Path tree, String v, long sde, Sandbox sandbox) throws IOException {
        if (!Files.isDirectory(entries)) {
            return false;
        }
        Path realTree = tree.toRealPath();
        List<Path> manifests = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(entries, "*.manifest")) {
            s.forEach(manifests::add);
        }
        for (Path m : manifests.stream().sorted().toList()) {
            String manifest;
            try {
                manifest = Files.readString(m);
            } catch (NoSuchFileException e) {
                continue; // evicted meanwhile
            }
            if (!matches(realTree, manifest, sde)) {
                continue;
            }
            String id = m.getFileName().toString().replace(".manifest", "");
            Path img = entries.resolve(id + ".img");
            Path out = tree.resolve("boot/initrd.img-" + v);
            try {
                Files.copy(img, out, StandardCopyOption.REPLACE_EXISTING);
            } catch (NoSuchFileException e) {
                continue; // evicted meanwhile
            }
            sandbox.own(out, 0, 0);
            Files.setPosixFilePermissions(out, Files.getPosixFilePermissions(img)); // the UMASK it was made with
            Files.setLastModifiedTime(img, FileTime.fromMillis(System.currentTimeMillis())); // recently used
            return true;
        }
        return false;
    }

    private static boolean matches(Path realTree, String manifest, long sde) throws IOException {
        for (String line : manifest.lines().toList()) {
            int tab = line.indexOf('\t');
            Path p = realTree.resolve(line.substring(0, tab)).normalize();
            if (!p.startsWith(realTree) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            String[] want = line.substring(tab + 1).split(" ");
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (!Integer.toOctalString(mode & 07777).equals(want[1])
                    || Math.min(mtime(p), sde) != Long.parseLong(want[2]) || !AtomicFiles.sha256(p).equals(want[0])) {
                return false;
            }
        }
        return true;
    }

    /** Keeps the {@code keep} most recently used images; a key left without any goes too. */
    private void evict() throws IOException {
        List<Path> images = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir, 2)) {
            s.filter(p -> p.getFileName().toString().endsWith(".img")).forEach(images::add);
        }
        if (images.size() <= keep) {
            return;
        }
        images.sort((a, b) -> {
            try {
                return Files.getLastModifiedTime(b).compareTo(Files.getLastModifiedTime(a));
            } catch (IOException e) {
                return 0;
            }
        });
        for (Path img : images.subList(keep, images.size())) {
            String id = img.getFileName().toString().replace(".img", "");
            Files.deleteIfExists(img.resolveSibling(id + ".manifest"));
            Files.deleteIfExists(img);
            try (Stream<Path> left = Files.list(img.getParent())) {
                if (left.findAny().isEmpty()) {
                    Files.deleteIfExists(img.getParent());
                }
            } catch (IOException e) {
                // another build is using the key
            }
        }
    }
}
