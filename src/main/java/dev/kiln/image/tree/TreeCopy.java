package dev.kiln.image.tree;

import dev.kiln.image.sandbox.ToolRunner;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A tree copied as {@code cp -a} copies it (owners, modes, times, extended attributes, hard links), by as many
 * {@code cp -a} at once as there are cores: a tree on tmpfs copies at about a GB a second on one core, and the
 * installed tree is copied on the build's way (into the tree cache, out of it). The tree is cut into parts of about
 * equal size: a directory too large for one part is made here and its entries shared out, each part is copied by one
 * {@code cp -a --parents}, and the names of one inode (hard links) stay in one part. The directories made here get
 * the source's owner, mode and times once the parts are in; they are the few large ones near the root
 * ({@code /usr}, {@code /usr/lib}), which carry no extended attributes in a Debian tree.
 */
final class TreeCopy {

    /** Below this, one cp. */
    static final long SPLIT_BYTES = 64L << 20;

    private TreeCopy() {
    }

    /** What a walk of the source found: each directory's bytes, each hard-linked file's inode. */
    private static final class Walk extends SimpleFileVisitor<Path> {
        private final Path root;
        final Map<Path, Long> dirBytes = new HashMap<>();
        final Map<Path, List<Path>> children = new HashMap<>();
        final Map<Path, Long> fileBytes = new HashMap<>();
        final Map<Object, List<Path>> inodes = new HashMap<>();
        private final List<Long> stack = new ArrayList<>();

        Walk(Path root) {
            this.root = root;
        }

        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) {
            Path rel = root.relativize(dir);
            if (!rel.toString().isEmpty()) {
                children.computeIfAbsent(parent(rel), k -> new ArrayList<>()).add(rel);
            }
            children.putIfAbsent(rel, new ArrayList<>());
            stack.add(0L);
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
            Path rel = root.relativize(file);
            long size = a.isRegularFile() ? (a.size() + 4095) / 4096 * 4096 : 0;
            children.computeIfAbsent(parent(rel), k -> new ArrayList<>()).add(rel);
            fileBytes.put(rel, size);
            stack.set(stack.size() - 1, stack.get(stack.size() - 1) + size);
            if (a.isRegularFile() && a.fileKey() != null) {
                inodes.computeIfAbsent(a.fileKey(), k -> new ArrayList<>(1)).add(rel);
            }
            return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
                throw e;
            }
            long size = stack.remove(stack.size() - 1);
            dirBytes.put(root.relativize(dir), size);
            if (!stack.isEmpty()) {
                stack.set(stack.size() - 1, stack.get(stack.size() - 1) + size);
            }
            return FileVisitResult.CONTINUE;
        }

        private static Path parent(Path rel) {
            Path p = rel.getParent();
            return p == null ? Path.of("") : p;
        }
    }

    /**
     * Copies {@code src} to {@code dst} (which must not exist; its parent must) with up to {@code ways} cp at once;
     * answers the bytes the tree's files take ({@link TreeCache#bytes}).
     */
    static long copy(Path src, Path dst, int ways, ToolRunner tools) throws IOException, InterruptedException {
        Walk walk = new Walk(src);
        Files.walkFileTree(src, walk);
        long total = walk.dirBytes.get(Path.of(""));
        if (ways <= 1 || total < SPLIT_BYTES) {
            tools.run(null, List.of("cp", "-a", src.toString(), dst.toString()));
            return total;
        }
        // the parts: entries of the directories larger than a share, descended from the root
        long share = total / (2L * ways);
        List<Path> made = new ArrayList<>(); // directories made here, parents first (a walk down)
        List<Path> units = new ArrayList<>();
        Map<Path, Long> unitBytes = new HashMap<>();
        List<Path> todo = new ArrayList<>(List.of(Path.of("")));
        while (!todo.isEmpty()) {
            Path dir = todo.remove(todo.size() - 1);
            made.add(dir);
            for (Path c : walk.children.get(dir)) {
                Long d = walk.dirBytes.get(c);
                if (d != null && d > share) {
                    todo.add(c);
                } else {
                    units.add(c);
                    unitBytes.put(c, d != null ? d : walk.fileBytes.get(c));
                }
            }
        }
        // the names of one inode in one part: units joined (each unit's group is the first it was joined with)
        Map<Path, Path> group = new HashMap<>();
        for (List<Path> names : walk.inodes.values()) {
            if (names.size() < 2) {
                continue;
            }
            Path first = find(group, unitOf(names.get(0), unitBytes));
            for (Path n : names.subList(1, names.size())) {
                Path other = find(group, unitOf(n, unitBytes));
                if (!other.equals(first)) {
                    group.put(other, first);
                }
            }
        }
        Map<Path, List<Path>> groups = new LinkedHashMap<>();
        Map<Path, Long> groupBytes = new HashMap<>();
        for (Path u : units) {
            Path g = find(group, u);
            groups.computeIfAbsent(g, k -> new ArrayList<>()).add(u);
            groupBytes.merge(g, unitBytes.get(u), Long::sum);
        }
        // the largest first, each to the part with the fewest bytes so far
        List<List<Path>> parts = new ArrayList<>();
        long[] partBytes = new long[ways];
        for (int i = 0; i < ways; i++) {
            parts.add(new ArrayList<>());
        }
        List<Path> order = new ArrayList<>(groups.keySet());
        order.sort(Comparator.comparingLong((Path g) -> groupBytes.get(g)).reversed());
        for (Path g : order) {
            int least = 0;
            for (int i = 1; i < ways; i++) {
                if (partBytes[i] < partBytes[least]) {
                    least = i;
                }
            }
            parts.get(least).addAll(groups.get(g));
            partBytes[least] += groupBytes.get(g);
        }
        for (Path d : made) {
            Files.createDirectory(dst.resolve(d.toString()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(ways);
        try {
            List<Future<String>> running = new ArrayList<>();
            for (int i = 0; i < ways; i++) {
                if (parts.get(i).isEmpty()) {
                    continue;
                }
                List<String> command = new ArrayList<>(List.of("cp", "-a", "--parents", "-t", dst.toString(), "--"));
                parts.get(i).forEach(u -> command.add(u.toString()));
                String shown = String.format("-a --parents -t %s -- (%d entries of %s, %d MiB)", dst,
                        parts.get(i).size(), src, partBytes[i] >> 20);
                running.add(pool.submit(() -> tools.runShown(src, command, shown)));
            }
            IOException failed = null;
            for (Future<String> f : running) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (failed == null) {
                        failed = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                    }
                }
            }
            if (failed != null) {
                throw failed;
            }
        } finally {
            pool.shutdownNow();
        }
        // the directories made here, as cp -a leaves them: owner, mode, then times (deepest first: a child's times
        // set after would not move its parent's, but making entries in it did)
        for (int i = made.size() - 1; i >= 0; i--) {
            Path from = src.resolve(made.get(i).toString());
            Path to = dst.resolve(made.get(i).toString());
            Map<String, Object> a = Files.readAttributes(from, "unix:uid,gid,mode,lastModifiedTime,lastAccessTime",
                    LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(to, "unix:uid", a.get("uid"), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(to, "unix:gid", a.get("gid"), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(to, "unix:mode", a.get("mode"), LinkOption.NOFOLLOW_LINKS);
            Files.getFileAttributeView(to, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes((FileTime) a.get("lastModifiedTime"), (FileTime) a.get("lastAccessTime"), null);
        }
        return total;
    }

    /** The unit a path lies in: itself or its nearest ancestor that is one. */
    private static Path unitOf(Path rel, Map<Path, Long> units) {
        Path p = rel;
        while (p != null && !units.containsKey(p)) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no part holds " + rel);
        }
        return p;
    }

    private static Path find(Map<Path, Path> group, Path u) {
        Path p = u;
        while (group.containsKey(p)) {
            p = group.get(p);
        }
        return p;
    }
}
