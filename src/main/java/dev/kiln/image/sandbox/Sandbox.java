package dev.kiln.image.sandbox;

import dev.kiln.KilnProperties;
import dev.kiln.image.tree.RootTree;
import dev.kiln.store.FileTrees;
import dev.kiln.store.StatePermissions;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Where code from packages and blueprints runs: a new user namespace whose ids 0–65535 are a subordinate range of
 * the host's (from {@code /etc/subuid} and {@code /etc/subgid}, mapped by {@code unshare --map-users/--map-groups},
 * that is by {@code newuidmap}/{@code newgidmap}), with new mount, PID, IPC, UTS and network namespaces (loopback
 * only) and, for what runs in a tree, bubblewrap's pivot_root into it. Root inside is an unprivileged id outside: it owns the tree and nothing else, so a maintainer script,
 * {@code %post} or a tool reading the tree cannot write outside it, mount on the host, make devices, reach the
 * host's processes or its network. The tree's files belong to the range on the host ({@link #own}) and to the
 * right ids inside, which is what the image gets.
 */
@Component
public class Sandbox {

    private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
    /** Ids a tree may use: 0–65535 inside. */
    public static final int COUNT = 65_536;

    /** The host's first uid and gid of the range, or null when the service user has none. */
    private final Range range;
    private final String problem;

    /** The start of a subordinate uid and gid range of at least {@link #COUNT} ids. */
    public record Range(long uid, long gid) {
    }

    private final Path work;

    public Sandbox(KilnProperties properties, @Value("${kiln.sandbox.subuid-file:/etc/subuid}") Path subuid,
            @Value("${kiln.sandbox.subgid-file:/etc/subgid}") Path subgid) {
        this.work = properties.localDir().resolve(StatePermissions.WORK);
        removeStaleWork(work, properties.resultsDir());
        String user = System.getProperty("user.name");
        long uid = currentUid();
        Optional<Long> u = find(subuid, user, uid);
        Optional<Long> g = find(subgid, user, uid);
        if (u.isPresent() && g.isPresent() && Files.isExecutable(Path.of("/usr/bin/newuidmap"))
                && Files.isExecutable(Path.of("/usr/bin/newgidmap")) && Files.isExecutable(Path.of("/usr/bin/bwrap"))) {
            range = new Range(u.get(), g.get());
            problem = null;
            log.info("Build sandbox: ids 0-{} of each build map to host uids {}-{} and gids {}-{}", COUNT - 1,
                    range.uid(), range.uid() + COUNT - 1, range.gid(), range.gid() + COUNT - 1);
        } else {
            range = null;
            problem = "builds need a subordinate id range of " + COUNT + " ids for user " + user + " in " + subuid
                    + " and " + subgid + ", newuidmap/newgidmap (package uidmap) and bwrap (package bubblewrap): for "
                    + "example usermod --add-subuids 1879048192-1879113727 --add-subgids 1879048192-1879113727 "
                    + user + "; apt-get install uidmap bubblewrap";
            log.warn("No build sandbox: {}", problem);
        }
    }

    /** Why builds cannot run, or null when they can. */
    public String problem() {
        return problem;
    }

    /** The range, or an error saying what is missing. */
    public Range range() throws IOException {
        if (range == null) {
            throw new SandboxMissingException(problem);
        }
        return range;
    }

    /** No id range: a build cannot start (the same every time: not worth a retry). */
    public static final class SandboxMissingException extends IOException {
        SandboxMissingException(String message) {
            super(message);
        }
    }

    /**
     * The command line that runs a host tool in the sandbox: the user namespace (root inside), new mount, PID, IPC,
     * UTS and network namespaces, and a parent-death signal so that everything dies with the service (the PID
     * namespace's first process takes the rest with it).
     */
    public List<String> wrap(List<String> command) throws IOException {
        List<String> full = userNamespace();
        full.addAll(List.of("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
                "--ipc", "--uts", "--net", "--"));
        full.addAll(command);
        return full;
    }

    /**
     * The command line that runs {@code command} with {@code tree} as its root: in the user namespace, bubblewrap
     * makes the other namespaces, binds the tree at {@code /} (pivot_root: the host's file systems are not there
     * to escape to, unlike a chroot's), mounts a new {@code /proc}, a minimal {@code /dev}, {@code /sys} read-only,
     * brings up loopback, and drops the capabilities that reach beyond the tree's own namespaces.
     */
    public List<String> wrapInTree(Path tree, List<String> command) throws IOException {
        return wrapInTree(tree, Map.of(), command);
    }

    /**
     * As {@link #wrapInTree(Path, List)}, with host files bound read-only into the tree ({@code readOnly}: the path
     * inside → the host's file; the path inside exists in the tree, an absolute path of plain names).
     */
    public List<String> wrapInTree(Path tree, Map<String, Path> readOnly, List<String> command) throws IOException {
        List<String> full = userNamespace();
        full.addAll(List.of("bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "kiln-build",
                "--bind", tree.toString(), "/", "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys"));
        for (Map.Entry<String, Path> b : new java.util.TreeMap<>(readOnly).entrySet()) {
            if (!b.getKey().matches("(/[A-Za-z0-9_+-][A-Za-z0-9_.+-]*)+")) {
                throw new IllegalArgumentException("not a plain absolute path to bind at: " + b.getKey());
            }
            full.addAll(List.of("--ro-bind", b.getValue().toString(), b.getKey()));
        }
        for (String cap : DROPPED) {
            full.addAll(List.of("--cap-drop", cap));
        }
        full.addAll(List.of("--chdir", "/", "--"));
        full.addAll(command);
        return full;
    }

    /** What root inside a build does not need: mounting, tracing, modules, raw I/O, the clock, network set-up. */
    private static final List<String> DROPPED = List.of("CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO", "CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_NET_ADMIN", "CAP_SYSLOG", "CAP_MAC_ADMIN",
            "CAP_MAC_OVERRIDE", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_RESOURCE", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_CONTROL", "CAP_LEASE");

    /** {@code setpriv … unshare --map-users … -- setpriv --reuid=0 …}: root of a new user namespace. */
    private List<String> userNamespace() throws IOException {
        Range r = range();
        return new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--", "unshare",
                "--map-users=" + r.uid() + ",0," + COUNT, "--map-groups=" + r.gid() + ",0," + COUNT,
                "--setgroups", "allow", "--keep-caps", "--fork", "--kill-child", "--",
                "setpriv", "--pdeathsig", "KILL", "--reuid=0", "--regid=0", "--clear-groups", "--"));
    }

    /**
     * A directory of one compose that root inside the sandbox owns (mode 0700), on the state directory's file
     * system: where a tree is built when there is no tmpfs, and where sandboxed tools write their output (moved into
     * {@code results/} by a rename). {@code results/} itself is closed to the sandbox (0750, group {@code weldr}).
     */
    public Path workDir(String uuid) throws IOException {
        if (!uuid.matches("[0-9a-f-]{36}")) {
            throw new IllegalArgumentException("not a compose UUID: " + uuid);
        }
        Path dir = work.resolve(uuid);
        privateDir(dir);
        return dir;
    }

    /** Work directories of composes that are gone (deleted, or cancelled while the service was down). */
    private static void removeStaleWork(Path work, Path results) {
        if (!Files.isDirectory(work)) {
            return;
        }
        try (var dirs = Files.list(work)) {
            for (Path d : dirs.toList()) {
                if (!Files.isDirectory(results.resolve(d.getFileName().toString()))) {
                    FileTrees.delete(d);
                }
            }
        } catch (IOException e) {
            log.warn("cannot clean {}: {}", work, e.toString());
        }
    }

    /** Removes a compose's {@link #workDir} and what is in it. */
    public void releaseWork(String uuid) throws IOException {
        FileTrees.delete(work.resolve(uuid));
    }

    /**
     * Whether {@code dir} is a directory made by {@link #privateDir} (root inside the sandbox owns it, mode 0700, not
     * a link): a compose's work directory, or a tree's parent on tmpfs.
     */
    public boolean isPrivateDir(Path dir) {
        try {
            return range != null && Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                    && ((Number) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue() == range.uid()
                    && Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS)
                            .equals(PosixFilePermissions.fromString("rwx------"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Makes a directory root inside the sandbox owns (mode 0700): a tree's parent, say. */
    public void privateDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        own(dir, 0, 0);
    }

    /**
     * Runs a host tool that reads a tree ({@code mke2fs -d}, {@code mksquashfs}) in the sandbox, so that it sees the
     * tree's ids as the image must hold them. {@code outputs} are made and given to root inside first, and back to
     * the service afterwards; while the tool writes them they are kept out of the page cache ({@link WriteBehind}).
     */
    private String runTool(ToolRunner tools, Path workDir, List<String> command, Map<String, String> env,
            List<Path> outputs) throws IOException, InterruptedException {
        Range r = range();
        for (Path out : outputs) {
            if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
                Files.createFile(out);
            }
            chown(out, r.uid(), r.gid());
        }
        List<WriteBehind> behind = new ArrayList<>();
        try {
            for (Path out : outputs) {
                WriteBehind w = WriteBehind.start(out);
                if (w != null) {
                    behind.add(w);
                }
            }
            return tools.run(workDir, wrap(command), env, null, command);
        } finally {
            behind.forEach(WriteBehind::close);
            for (Path out : outputs) {
                if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
                    chown(out, 0, 0);
                }
            }
        }
    }

    /**
     * Runs a host tool that reads a tree and writes into {@code file}, a file of the compose's {@link #workDir}
     * that exists already (a disk whose partition it fills, say), in the sandbox.
     */
    public void runToolOn(ToolRunner tools, String uuid, Path file, List<String> command, Map<String, String> env)
            throws IOException, InterruptedException {
        Path dir = file.toAbsolutePath().normalize().getParent();
        if (!(dir.equals(workDir(uuid).toAbsolutePath().normalize()) || isPrivateDir(dir))
                || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("not a file of the compose's work directory: " + file);
        }
        runTool(tools, dir, command, env, List.of(file));
    }

    /**
     * Runs a host tool that reads a tree and writes one file, in the sandbox: the file is written in the compose's
     * {@link #workDir} (the sandbox cannot reach {@code results/}) and renamed to {@code output} afterwards.
     * {@code command} gets the path to write to.
     */
    public void runToolInto(ToolRunner tools, String uuid, Path output, Function<Path, List<String>> command,
            Map<String, String> env) throws IOException, InterruptedException {
        Path dir = workDir(uuid);
        Path out = dir.resolve(output.getFileName().toString());
        Files.deleteIfExists(out);
        try {
            runTool(tools, dir, command.apply(out), env, List.of(out));
            moveOut(tools, out, output);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * Moves a sandboxed tool's output out of the compose's {@link #workDir}: a rename, or where the node directory is
     * on another file system than {@code to}, a copy that keeps the file's holes (a plain copy would write them out
     * as zeros: most of a disk or file system image).
     */
    public void moveOut(ToolRunner tools, Path from, Path to) throws IOException, InterruptedException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException acrossFileSystems) {
            tools.run(from.getParent(), List.of("cp", "--sparse=always", "--", from.toString(), to.toString()));
            Files.delete(from);
        }
    }

    /**
     * Gives every file of {@code tree} that the service wrote (host ids below {@link #COUNT}) to the same id inside
     * the sandbox. Files made inside already belong to the range and are left alone. Set-id bits, which a chown
     * clears, are set again.
     */
    public void own(Path tree) throws IOException {
        Range r = range();
        FileTrees.visit(tree, (p, a) -> shift(p, r));
    }

    /**
     * As {@link #own(Path)} for these paths only, each one (no walk): what was written into a tree whose other files
     * are the sandbox's already.
     */
    public void ownEach(Iterable<Path> paths) throws IOException {
        Range r = range();
        for (Path p : paths) {
            shift(p, r);
        }
    }

    /** Gives one path the ids {@code uid}/{@code gid} as the sandbox sees them. */
    public void own(Path path, int uid, int gid) throws IOException {
        Range r = range();
        chown(path, r.uid() + uid, r.gid() + gid);
    }

    /** The id a tree's file has inside the sandbox (and in the image), from its id on the host. */
    public int inside(long hostId, boolean group) {
        long start = range == null ? 0 : group ? range.gid() : range.uid();
        return hostId >= start && hostId < start + COUNT ? (int) (hostId - start) : (int) hostId;
    }

    /** A short stamp of the range, for the keys of caches whose trees belong to it. */
    public String stamp() {
        return range == null ? "none" : range.uid() + ":" + range.gid();
    }

    private static void shift(Path p, Range r) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
        int uid = (Integer) a.get("uid");
        int gid = (Integer) a.get("gid");
        if ((uid >= 0 && uid < COUNT) || (gid >= 0 && gid < COUNT)) {
            long newUid = uid >= 0 && uid < COUNT ? r.uid() + uid : Integer.toUnsignedLong(uid);
            long newGid = gid >= 0 && gid < COUNT ? r.gid() + gid : Integer.toUnsignedLong(gid);
            int mode = (Integer) a.get("mode");
            chown(p, newUid, newGid);
            if ((mode & 06000) != 0 && !Files.isSymbolicLink(p)) {
                Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    private static void chown(Path p, long uid, long gid) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
    }

    /** The first range of at least {@link #COUNT} ids that the file gives {@code user} (by name or number). */
    static Optional<Long> find(Path file, String user, long uid) {
        if (!Files.isReadable(file)) {
            return Optional.empty();
        }
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.strip().split(":");
                if (f.length == 3 && (f[0].equals(user) || f[0].equals(String.valueOf(uid)))) {
                    try {
                        long start = Long.parseLong(f[1]);
                        long count = Long.parseLong(f[2]);
                        if (count >= COUNT && start > 0 && start + COUNT <= 0xFFFFFFFEL) {
                            return Optional.of(start);
                        }
                    } catch (NumberFormatException ignored) {
                        // not a range: the next line may be
                    }
                }
            }
        } catch (IOException e) {
            log.warn("cannot read {}: {}", file, e.getMessage());
        }
        return Optional.empty();
    }

    private static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }
}
