package dev.kiln.image.sandbox;

import dev.kiln.image.tree.RootTree;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs a command inside a root tree, in the {@link Sandbox}: its own user namespace, whose root is an unprivileged
 * id range on the host, and its own mount, PID, IPC, UTS and network namespaces, the tree as its root, with
 * {@code /proc}, {@code /sys} (read-only), a minimal {@code /dev} and a loopback-only network. The mounts exist only
 * in that namespace, so they vanish with its last process, and the processes die with the service — also when the
 * build is cancelled or the service killed — and the host never sees them.
 */
public final class Chroot {

    private final Path tree;
    private final ToolRunner tools;
    private final Sandbox sandbox;
    private final Map<String, String> env;
    /** Host directories or files bound read-only into the tree for every run (the path inside → the host's). */
    private final Map<String, Path> binds;
    /** Given each command's process as it starts (null: nothing is). */
    private final Consumer<ProcessHandle> started;

    public Chroot(Path tree, ToolRunner tools, Sandbox sandbox, long sourceDateEpoch) {
        this(tree, tools, sandbox, Map.of("PATH", PATH, "LC_ALL", "C.UTF-8", "LANG", "C.UTF-8",
                "DEBIAN_FRONTEND", "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN", "true",
                "SOURCE_DATE_EPOCH", String.valueOf(sourceDateEpoch), "HOME", "/root",
                // the kernel's hooks make no initramfs while packages are installed: RootTree makes it once, after
                "INITRD", "No"), Map.of(), null);
    }

    private static final String PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

    private Chroot(Path tree, ToolRunner tools, Sandbox sandbox, Map<String, String> env, Map<String, Path> binds,
            Consumer<ProcessHandle> started) {
        this.tree = tree;
        this.tools = tools;
        this.sandbox = sandbox;
        this.env = env;
        this.binds = binds;
        this.started = started;
    }

    /** This chroot, each command's process (the sandbox's wrapper) given to {@code started} as it starts. */
    public Chroot whenStarted(Consumer<ProcessHandle> listener) {
        return new Chroot(tree, tools, sandbox, env, binds, listener);
    }

    /**
     * This chroot with the host's directory {@code dir} bound read-only over the tree's directory {@code at} and
     * first in the PATH of every command run: commands of Kiln's that stand in for the tree's own of the same name
     * while it runs. The tree itself is not changed (the bind hides {@code at} from these runs only).
     */
    public Chroot withCommandsFirst(String at, Path dir) {
        Map<String, String> e = new HashMap<>(env);
        e.put("PATH", at + ":" + PATH);
        Map<String, Path> b = new HashMap<>(binds);
        b.put(at, dir);
        return new Chroot(tree, tools, sandbox, Map.copyOf(e), Map.copyOf(b), started);
    }

    public Sandbox sandbox() {
        return sandbox;
    }

    public String run(List<String> command) throws IOException, InterruptedException {
        return run(command, null);
    }

    public String run(List<String> command, String stdin) throws IOException, InterruptedException {
        return run(command, stdin, Map.of());
    }

    /** Runs {@code command} with host files bound read-only into the tree (the path inside → the host's file). */
    public String runReading(List<String> command, Map<String, Path> readOnly) throws IOException, InterruptedException {
        return run(command, null, readOnly);
    }

    private String run(List<String> command, String stdin, Map<String, Path> readOnly)
            throws IOException, InterruptedException {
        Map<String, Path> all = readOnly;
        if (!binds.isEmpty()) {
            all = new HashMap<>(binds);
            all.putAll(readOnly);
        }
        List<String> full = sandbox.wrapInTree(tree, all, command);
        try {
            // the log names the command; the sandbox around it is always the same (Sandbox#wrapInTree)
            return tools.run(null, full, env, stdin, command, started);
        } catch (ToolFailedException e) { // name what failed inside the tree, not the namespace wrapper
            String what = String.join(" ", command);
            throw new ToolFailedException(what.length() > 200 ? what.substring(0, 200) + "…" : what, e.exitCode(),
                    e.output());
        }
    }
}
