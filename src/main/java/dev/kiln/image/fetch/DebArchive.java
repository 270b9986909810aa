package dev.kiln.image.fetch;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolRunner;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * A {@code .deb} read with Commons Compress: its control fields, the time it was built, and its files unpacked
 * into a root tree. Paths are resolved inside the tree the way a chroot would resolve them, so that no entry and
 * no symbolic link in a package can make a write land outside the tree.
 */
public final class DebArchive {

    private DebArchive() {
    }

    /** The fields of the package's {@code control} file. */
    public static Map<String, String> control(Path deb) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        member(deb, "control.tar", tar -> {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.getName().equals("./control") || e.getName().equals("control")) {
                    String key = null;
                    for (String line : new String(tar.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                        if ((line.startsWith(" ") || line.startsWith("\t")) && key != null) {
                            continue;
                        }
                        int colon = line.indexOf(':');
                        if (colon > 0) {
                            key = line.substring(0, colon);
                            fields.put(key, line.substring(colon + 1).strip());
                        }
                    }
                    return;
                }
            }
        });
        return fields;
    }

    /** The build time of the package: the modification time of its {@code data.tar} member, in epoch seconds. */
    public static long buildTime(Path deb) throws IOException {
        try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)))) {
            for (ArArchiveEntry e = ar.getNextEntry(); e != null; e = ar.getNextEntry()) {
                if (e.getName().startsWith("data.tar")) {
                    return e.getLastModified();
                }
            }
        }
        throw new IOException(deb + " has no data.tar member");
    }

    /**
     * Writes {@code out}: the same package with its {@code data.tar} member uncompressed (the host's dpkg-deb
     * decompresses it, natively). dpkg unpacks the packages of a tree one at a time; handed these, it does not
     * decompress, and the decompression has already happened on every core. The content is the same bytes.
     */
    public static void decompress(Path deb, Path out) throws IOException, InterruptedException {
        Path data = out.resolveSibling(out.getFileName() + ".data.tar");
        try {
            int exit = ToolRunner.runToFile(List.of("dpkg-deb", "--fsys-tarfile", deb.toString()), data);
            if (exit != 0) {
                throw new IOException("dpkg-deb --fsys-tarfile " + deb.getFileName() + " failed with exit code " + exit);
            }
            try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)));
                    ArArchiveOutputStream o = new ArArchiveOutputStream(new BufferedOutputStream(Files.newOutputStream(out), 1 << 16))) {
                for (ArArchiveEntry e = ar.getNextEntry(); e != null; e = ar.getNextEntry()) {
                    if (e.getName().startsWith("data.tar")) {
                        o.putArchiveEntry(new ArArchiveEntry("data.tar", Files.size(data), e.getUserId(), e.getGroupId(),
                                e.getMode(), e.getLastModified()));
                        Files.copy(data, o);
                    } else {
                        o.putArchiveEntry(new ArArchiveEntry(e.getName(), e.getLength(), e.getUserId(), e.getGroupId(),
                                e.getMode(), e.getLastModified()));
                        ar.transferTo(o);
                    }
                    o.closeArchiveEntry();
                }
            }
        } finally {
            Files.deleteIfExists(data);
        }
    }

    /**
     * Unpacks the package's files into {@code root}, keeping modes, links and times; owners become the ids the
     * sandbox's {@code range} gives them on the host (root inside is {@code range.uid()} outside).
     */
    public static void extract(Path deb, Path root, Sandbox.Range range) throws IOException {
        member(deb, "data.tar", tar -> {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                String name = e.getName();
                if (e.isDirectory()) {
                    Path dir = resolve(root, name, true);
                    Files.createDirectories(dir);
                    attributes(dir, e, range);
                } else if (e.isSymbolicLink()) {
                    Path link = resolve(root, name, false);
                    replace(link);
                    Files.createSymbolicLink(link, Path.of(e.getLinkName()));
                    owner(link, e, range);
                } else if (e.isLink()) {
                    Path link = resolve(root, name, false);
                    replace(link);
                    Files.createLink(link, resolve(root, e.getLinkName(), false));
                } else if (e.isFile()) {
                    Path file = resolve(root, name, false);
                    replace(file);
                    Files.copy(tar, file, StandardCopyOption.REPLACE_EXISTING);
                    attributes(file, e, range);
                }
                // device nodes and fifos: left to dpkg, which unpacks every package again in the chroot
            }
        });
    }

    private interface TarReader {
        void read(TarArchiveInputStream tar) throws IOException;
    }

    private static void member(Path deb, String prefix, TarReader reader) throws IOException {
        try (ArArchiveInputStream ar = new ArArchiveInputStream(new BufferedInputStream(Files.newInputStream(deb)))) {
            for (ArArchiveEntry e = ar.getNextEntry(); e != null; e = ar.getNextEntry()) {
                String name = e.getName();
                if (!name.startsWith(prefix)) {
                    continue;
                }
                InputStream in;
                if (name.endsWith(".xz")) {
                    in = new XZCompressorInputStream(ar, true);
                } else if (name.endsWith(".gz")) {
                    in = new GzipCompressorInputStream(ar);
                } else if (name.equals(prefix)) {
                    in = ar;
                } else {
                    throw new IOException(deb.getFileName() + ": unsupported compression of " + name);
                }
                reader.read(new TarArchiveInputStream(in));
                return;
            }
        }
        throw new IOException(deb.getFileName() + " has no " + prefix + " member");
    }

    private static void replace(Path p) throws IOException {
        if (Files.isSymbolicLink(p) || (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p))) {
            Files.delete(p);
        }
        Files.createDirectories(p.getParent());
    }

    /**
     * Owner, then the whole mode (set-user-ID, set-group-ID and sticky bits too: /tmp is 1777, /var/local 2775; a
     * change of owner clears the first two, and Java's permission sets cannot hold them), then the time.
     */
    private static void attributes(Path p, TarArchiveEntry e, Sandbox.Range range) throws IOException {
        owner(p, e, range);
        Files.setAttribute(p, "unix:mode", e.getMode() & 07777, LinkOption.NOFOLLOW_LINKS);
        Files.setLastModifiedTime(p, FileTime.from(e.getLastModifiedTime().toInstant()));
    }

    private static void owner(Path p, TarArchiveEntry e, Sandbox.Range range) throws IOException {
        long uid = e.getLongUserId();
        long gid = e.getLongGroupId();
        if (uid < 0 || uid >= Sandbox.COUNT || gid < 0 || gid >= Sandbox.COUNT) {
            throw new IOException(e.getName() + ": owner " + uid + ":" + gid + " is outside the ids a tree may use");
        }
        Files.setAttribute(p, "unix:uid", (int) (range.uid() + uid), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) (range.gid() + gid), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Resolves {@code path} inside {@code root} as a chroot would: {@code ..} stops at the root, absolute link
     * targets start again at the root; {@code followLast} decides whether a link in the last element is followed.
     */
    public static Path resolve(Path root, String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        for (String c : path.split("/")) {
            todo.add(c);
        }
        Path cur = root;
        int hops = 0;
        while (!todo.isEmpty()) {
            String c = todo.poll();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                cur = cur.equals(root) ? root : cur.getParent();
                continue;
            }
            Path next = cur.resolve(c);
            boolean last = todo.stream().allMatch(x -> x.isEmpty() || x.equals("."));
            if (Files.isSymbolicLink(next) && (!last || followLast)) {
                if (++hops > 40) {
                    throw new IOException("too many levels of symbolic links in " + path);
                }
                String target = Files.readSymbolicLink(next).toString();
                Deque<String> more = new ArrayDeque<>();
                for (String t : target.split("/")) {
                    more.add(t);
                }
                more.addAll(todo);
                todo = more;
                if (target.startsWith("/")) {
                    cur = root;
                }
            } else {
                cur = next;
            }
        }
        if (!cur.normalize().startsWith(root)) {
            throw new IOException(path + " resolves outside the tree");
        }
        return cur;
    }
}
