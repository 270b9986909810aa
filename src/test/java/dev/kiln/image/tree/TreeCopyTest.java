package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.image.sandbox.ToolRunner;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree copied in parts by several cp is the tree {@code cp -a} makes: every name's type, owner, mode, times to the
 * nanosecond, content and link target, and the same names sharing an inode.
 */
class TreeCopyTest {

    @TempDir
    Path dir;

    private static final long MIB = 1 << 20;

    private static void file(Path p, long size, String text) throws Exception {
        Files.createDirectories(p.getParent());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(text.getBytes());
            f.setLength(Math.max(size, text.length())); // a hole: the size counts, the copy is quick
        }
    }

    private static void stamp(Path p, long seconds, int nanos, int uid, int gid, int mode) throws Exception {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        FileTime t = FileTime.from(Instant.ofEpochSecond(seconds, nanos));
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setTimes(t, t, null);
    }

    /** A tree like an installed one, large enough to be cut: big directories, links across them, odd modes. */
    private Path tree() throws Exception {
        Path t = dir.resolve("src/tree");
        file(t.resolve("usr/lib/modules/6.1/kernel/a.ko"), 50 * MIB, "module a");
        file(t.resolve("usr/lib/modules/6.1/kernel/b.ko"), 30 * MIB, "module b");
        file(t.resolve("usr/lib/x86_64-linux-gnu/libc.so.6"), 40 * MIB, "libc");
        file(t.resolve("usr/share/doc/c/copyright"), 25 * MIB, "copyright");
        file(t.resolve("usr/bin/perl"), 20 * MIB, "perl");
        Files.createLink(t.resolve("usr/bin/perl5.36.0"), t.resolve("usr/bin/perl"));
        Files.createLink(t.resolve("usr/share/doc/c/perl-again"), t.resolve("usr/bin/perl")); // across parts
        Files.createLink(t.resolve("usr/lib/x86_64-linux-gnu/libc-link"), t.resolve("usr/lib/modules/6.1/kernel/b.ko"));
        file(t.resolve("etc/passwd"), 0, "root:x:0:0::/root:/bin/sh\n");
        Files.createDirectories(t.resolve("var/tmp"));
        Files.createDirectories(t.resolve("var/log/journal"));
        Files.createSymbolicLink(t.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(t.resolve("usr/lib/dangling"), Path.of("/nowhere"));
        file(t.resolve("usr/lib/-starts-with-dash"), 0, "dash");
        file(t.resolve("usr/lib/name with\nline break"), 0, "odd");
        stamp(t.resolve("etc/passwd"), 1_700_000_000L, 123_456_789, 0, 0, 0644);
        stamp(t.resolve("var/tmp"), 1_700_000_001L, 1, 0, 0, 01777);
        stamp(t.resolve("var/log/journal"), 1_700_000_002L, 999_999_999, 100_000, 100_101, 02755);
        // the directories a copy in parts makes itself: owners and modes of their own, times with nanoseconds
        stamp(t.resolve("usr/lib/modules/6.1"), 1_690_000_000L, 111_111_111, 100_000, 100_004, 02775);
        stamp(t.resolve("usr/lib/modules"), 1_690_000_001L, 222_222_222, 0, 0, 0755);
        stamp(t.resolve("usr/lib"), 1_690_000_002L, 333_333_333, 0, 0, 0755);
        stamp(t.resolve("usr"), 1_690_000_003L, 444_444_444, 0, 0, 0755);
        stamp(t, 1_690_000_004L, 555_555_555, 0, 0, 0755);
        return t;
    }

    /** Path → what a copy must keep; hard links as the sorted names of each inode. */
    private static Map<String, String> describe(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        Map<Object, TreeSet<String>> inodes = new java.util.HashMap<>();
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(all::add);
        }
        for (Path p : all) {
            String rel = root.relativize(p).toString();
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime,size,ino",
                    LinkOption.NOFOLLOW_LINKS);
            String what = String.format("mode %o uid %s gid %s mtime %s size %s", a.get("mode"), a.get("uid"),
                    a.get("gid"), ((FileTime) a.get("lastModifiedTime")).toInstant(), a.get("size"));
            if (Files.isSymbolicLink(p)) {
                what += " -> " + Files.readSymbolicLink(p);
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                byte[] head = new byte[16];
                try (var in = Files.newInputStream(p)) {
                    what += " starts " + new String(head, 0, Math.max(0, in.read(head)));
                }
                inodes.computeIfAbsent(a.get("ino"), k -> new TreeSet<>()).add(rel);
            }
            out.put(rel, what);
        }
        for (TreeSet<String> names : inodes.values()) {
            for (String n : names) {
                out.put(n, out.get(n) + " names " + names);
            }
        }
        return out;
    }

    @Test
    void aTreeCopiedInPartsIsTheTreeCpMakes() throws Exception {
        Path src = tree();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        ToolRunner tools = new ToolRunner((level, line) -> log.add(line));
        long bytes = TreeCopy.copy(src, dir.resolve("parts"), 2, tools);
        assertThat(log).filteredOn(l -> l.startsWith("Running: cp -a --parents")).as("cut into two parts").hasSize(2);
        new ToolRunner((level, line) -> { }).run(null, List.of("cp", "-a", src.toString(), dir.resolve("cp").toString()));
        Map<String, String> want = describe(dir.resolve("cp"));
        assertThat(describe(dir.resolve("parts"))).isEqualTo(want);
        assertThat(want.get("usr/bin/perl")).contains("names [usr/bin/perl, usr/bin/perl5.36.0, usr/share/doc/c/perl-again]");
        assertThat(want.get("usr/lib/modules/6.1")).contains("mode 42775 uid 100000 gid 100004 mtime 2023-07-22T04:26:40.111111111Z");
        assertThat(bytes).isEqualTo(TreeCache.bytes(dir.resolve("cp")));
    }

    @Test
    void aSmallTreeOrOneWayIsOneCp() throws Exception {
        Path src = tree();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        ToolRunner tools = new ToolRunner((level, line) -> log.add(line));
        TreeCopy.copy(src, dir.resolve("one"), 1, tools);
        assertThat(log).filteredOn(l -> l.startsWith("Running: cp")).containsExactly(
                "Running: cp -a " + src + " " + dir.resolve("one"));
        assertThat(describe(dir.resolve("one"))).isEqualTo(describe(src));
    }
}
