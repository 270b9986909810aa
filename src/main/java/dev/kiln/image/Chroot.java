package dev.kiln.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a command inside a root tree: in private mount and PID namespaces ({@code unshare --mount --pid}), with
 * {@code /proc}, {@code /sys} and a minimal {@code /dev} mounted for it. The mounts exist only in that namespace,
 * so they vanish with its last process, and the processes die with the service — also when the build is cancelled
 * or the service killed — and the host never sees them.
 */
final class Chroot {

    /** A constant script: the tree and the command arrive as arguments, never spliced into its text. */
    private static final String SETUP = """
            set -eu
            tree=$1; shift
            mount -t proc proc "$tree/proc"
            mount -t sysfs sysfs "$tree/sys"
            mount -t tmpfs -o mode=0755,size=16m tmpfs "$tree/dev"
            for n in null zero full random urandom tty; do : > "$tree/dev/$n"; mount --bind "/dev/$n" "$tree/dev/$n"; done
            ln -s /proc/self/fd "$tree/dev/fd"
            mkdir "$tree/dev/pts" "$tree/dev/shm"
            exec chroot "$tree" "$@"
            """;

    private final Path tree;
    private final ToolRunner tools;
    private final Map<String, String> env;

    Chroot(Path tree, ToolRunner tools, long sourceDateEpoch) {
        this.tree = tree;
        this.tools = tools;
        this.env = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL", "C.UTF-8", "LANG", "C.UTF-8",
                "DEBIAN_FRONTEND", "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN", "true",
                "SOURCE_DATE_EPOCH", String.valueOf(sourceDateEpoch), "HOME", "/root",
                // the kernel's hooks make no initramfs while packages are installed: RootTree makes it once, after
                "INITRD", "No");
    }

    String run(List<String> command) throws IOException, InterruptedException {
        return run(command, null);
    }

    String run(List<String> command, String stdin) throws IOException, InterruptedException {
        // setpriv: the namespace's owner dies with the service (SIGKILL included); --pid + --kill-child: when it dies,
        // the kernel kills every process of the build (dpkg, maintainer scripts), so nothing outlives a killed service
        List<String> full = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--", "unshare", "--mount",
                "--propagation", "private", "--pid", "--kill-child", "--", "/bin/sh", "-c", SETUP, "kiln-chroot",
                tree.toString()));
        full.addAll(command);
        return tools.run(null, full, env, stdin);
    }
}
