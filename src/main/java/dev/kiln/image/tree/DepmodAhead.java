package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolFailedException;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A kernel's module index made while dpkg configures the other packages. The kernel package's postinst runs
 * {@code depmod VERSION}: about 0.9 s of CPU for Debian's kernel on this kind of machine, on dpkg's one core while
 * the others wait. The index depends on the modules alone, and dpkg has unpacked them all before it configures
 * anything; so once dpkg's log says the set is unpacked, the tree's own depmod runs in a second sandbox on the same
 * tree, beside dpkg. For that dpkg run a {@code depmod} of Kiln's stands first in the PATH (a directory of the
 * service's, bound read-only at {@value #AT}, made for it and removed after): {@code depmod VERSION} waits for the
 * index begun ahead and is done when it succeeded and the modules are the ones it was made from (as many files, none
 * changed since); any other call, or one that finds the modules changed, waits for it too and then runs the tree's
 * depmod. The index is the same bytes either way (DiskTypesTest checks it against depmod's own).
 */
final class DepmodAhead implements AutoCloseable {

    /** Where Kiln's {@code depmod} is bound in the tree while dpkg runs. */
    static final String AT = "/run/kiln-ahead";
    /** A kernel's version as a directory of {@code /lib/modules}. */
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,99}");

    private final Path tree;
    private final Path dir;
    private final Chroot chroot;
    private final ToolRunner tools;
    private final DpkgWatch watch;
    private final Thread thread;
    private volatile boolean over;
    /** The kernels whose index was made ahead (read once the thread is done). */
    private final List<String> made = new java.util.concurrent.CopyOnWriteArrayList<>();

    private DepmodAhead(Path tree, Path dir, Chroot chroot, ToolRunner tools, DpkgWatch watch) {
        this.tree = tree;
        this.dir = dir;
        this.chroot = chroot;
        this.tools = tools;
        this.watch = watch;
        this.thread = new Thread(this::run, "depmod-ahead");
        thread.setDaemon(true);
    }

    /**
     * Begins watching for the set unpacked when {@code others} (the packages dpkg is about to install) hold a kernel
     * image; null when they do not. {@code chroot} is the install's; the caller runs dpkg through {@link #chroot}.
     */
    static DepmodAhead start(Path tree, List<String> others, Chroot chroot, ToolRunner tools, DpkgWatch watch,
            Sandbox sandbox) throws IOException {
        if (others.stream().noneMatch(n -> n.startsWith("linux-image-"))
                || !Files.isDirectory(tree.resolve("run"), LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        Path dir = tree.resolveSibling("depmod-ahead");
        FileTrees.delete(dir);
        Files.createDirectories(dir.resolve(".ahead"));
        Path command = dir.resolve("depmod");
        Files.writeString(command, wrapper(AT + "/.ahead", "/lib/modules", "/sbin/depmod"));
        for (Path p : List.of(command, dir, dir.resolve(".ahead"))) { // the sandbox's root reads and runs them
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Path at = tree.resolve(AT.substring(1));
        FileTrees.delete(at);
        Files.createDirectory(at); // the bind's mount point, removed when dpkg is done
        sandbox.own(at, 0, 0);
        DepmodAhead ahead = new DepmodAhead(tree, dir, chroot, tools, watch);
        ahead.thread.start();
        return ahead;
    }

    /** The install's chroot with Kiln's {@code depmod} first in the PATH. */
    Chroot chroot() {
        return chroot.withCommandsFirst(AT, dir);
    }

    /**
     * Kiln's {@code depmod}: markers in {@code ahead} ({@code begun-VERSION} holds the count of the modules'
     * files when the index was begun, {@code done-VERSION} depmod's exit status), the modules' directory
     * {@code modules} and the tree's own depmod {@code depmod}: given as paths for its test.
     */
    static String wrapper(String ahead, String modules, String depmod) {
        return """
                #!/bin/sh
                # Kiln, while packages install: each kernel's module index was begun when dpkg had unpacked the set,
                # while dpkg configures the others. `depmod VERSION` waits for it and is done when it succeeded and
                # the modules are the ones it was made from; any other call waits for it, then runs depmod.
                ahead=@AHEAD@
                for begun in "$ahead"/begun-*; do
                    [ -e "$begun" ] || continue
                    while [ ! -e "$ahead/done-${begun##*/begun-}" ]; do sleep 0.05; done
                done
                if [ "$#" = 1 ] && [ -e "$ahead/begun-$1" ] && [ "$(cat "$ahead/done-$1")" = 0 ]; then
                    files=$(find "@MODULES@/$1" -name 'modules.*' -prune -o ! -type d -print | wc -l)
                    changed=$(find "@MODULES@/$1" -name 'modules.*' -prune -o ! -type d -cnewer "$ahead/begun-$1" -print -quit)
                    if [ "$files" = "$(cat "$ahead/begun-$1")" ] && [ -z "$changed" ]; then
                        echo "depmod $1: the module index made while dpkg configured the other packages"
                        exit 0
                    fi
                fi
                exec @DEPMOD@ "$@"
                """.replace("@AHEAD@", ahead).replace("@MODULES@", modules).replace("@DEPMOD@", depmod);
    }

    private void run() {
        try {
            while (!watch.allUnpacked()) {
                if (over) {
                    return;
                }
                Thread.sleep(100);
            }
            for (String v : versions()) {
                if (over) {
                    return;
                }
                long t0 = System.nanoTime();
                Path modules = tree.resolve("lib/modules").resolve(v);
                publish("begun-" + v, String.valueOf(files(modules)));
                int status = 1;
                try {
                    chroot.run(List.of("depmod", v));
                    status = 0;
                } catch (ToolFailedException e) {
                    status = Math.max(1, e.exitCode());
                } finally {
                    publish("done-" + v, String.valueOf(status)); // also when interrupted: nothing waits for ever
                }
                if (status == 0) {
                    made.add(v);
                    tools.note(String.format("module index of %s made while dpkg configured the other packages, in "
                            + "%d ms", v, (System.nanoTime() - t0) / 1_000_000));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            // the kernel's postinst runs depmod itself: a marker missing makes Kiln's depmod do just that
            tools.note("module index not made ahead: " + e);
        }
    }

    /**
     * Says in the build's log, for each kernel whose index was made ahead, whether its postinst took it (Kiln's
     * {@code depmod} says so in what dpkg said, {@code said}) or ran depmod itself.
     */
    void report(String said) {
        for (String v : made) {
            tools.note(said.contains("depmod " + v + ": the module index made while dpkg configured")
                    ? "the postinst of " + v + " took the module index made ahead"
                    : "the postinst of " + v + " ran depmod itself (before the index was begun, or on modules "
                            + "changed since)");
        }
    }

    /** The kernels dpkg unpacked: directories of {@code /lib/modules} with a module list. */
    private List<String> versions() throws IOException {
        Path root = tree.resolve("lib/modules");
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.sorted().toList()) {
                String v = p.getFileName().toString();
                if (VERSION.matcher(v).matches() && Files.isRegularFile(p.resolve("modules.order"),
                        LinkOption.NOFOLLOW_LINKS)) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    /** The files under a kernel's modules directory but its index ({@code modules.*}), as the wrapper counts. */
    static long files(Path modules) throws IOException {
        try (Stream<Path> s = Files.walk(modules)) {
            return s.filter(p -> !p.equals(modules))
                    .filter(p -> !underIndexName(modules, p))
                    .filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).count();
        }
    }

    /** Whether {@code p} or a directory above it (below {@code modules}) is named {@code modules.*}. */
    private static boolean underIndexName(Path modules, Path p) {
        for (Path part : modules.relativize(p)) {
            if (part.toString().startsWith("modules.")) {
                return true;
            }
        }
        return false;
    }

    /** A marker the sandbox's root reads: world-readable, renamed into place whole. */
    private void publish(String name, String content) throws IOException {
        Path target = dir.resolve(".ahead").resolve(name);
        Path tmp = target.resolveSibling("." + name);
        Files.writeString(tmp, content);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Waits for the index begun ahead (it writes into the tree) or ends the watch, then removes Kiln's
     * {@code depmod} and its mount point. Interrupted, it stops the index's depmod.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        over = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            thread.interrupt();
            thread.join(10_000);
            throw e;
        } finally {
            FileTrees.delete(dir);
        }
        Files.deleteIfExists(tree.resolve(AT.substring(1)));
    }
}
