package dev.kiln.image.format;

import dev.kiln.image.TreeImageBuilder;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.tree.RootTree;
import dev.kiln.image.tree.Tree;
import dev.kiln.output.OutputType;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.FilterOutputStream;
import java.io.OutputStream;
import dev.kiln.store.Progress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code tar}: the root tree as {@code root.tar.xz}. Commons Compress writes the archive (entries sorted, numeric
 * owners, clamped times, hard links kept); {@code xz} compresses it with a fixed thread count, so the bytes do not
 * depend on the machine.
 */
@Component
class TarBuilder extends TreeImageBuilder {

    private final int level;

    TarBuilder(RootTree rootTree, @Value("${kiln.image.xz-level:3}") int level) {
        super(rootTree);
        this.level = level;
    }

    @Override
    public OutputType type() {
        return OutputType.TAR;
    }

    @Override
    protected Path image(BuildRequest request, Tree tree) throws Exception {
        Path image = request.scratch().resolve(type().imageName());
        long t0 = System.nanoTime();
        Progress progress = request.tools().progress();
        progress.phase("compress", 100, "%");
        long[] written = {0};
        // xz is fed as the tar is written: no uncompressed copy on disk, and both run at once
        request.tools().pipe(request.scratch(), List.of("xz", "-" + level, "-T2", "-c"), in -> {
            OutputStream counted = new FilterOutputStream(in) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                    written[0] += len;
                    progress.bytes(len);
                }
            };
            try (OutputStream out = new BufferedOutputStream(counted, 1 << 16)) {
                write(tree.dir(), tree.sandbox(), out, progress);
            }
        }, image);
        request.tools().note(String.format("tar of the tree: %d bytes, %d compressed, in %d ms", written[0],
                Files.size(image), (System.nanoTime() - t0) / 1_000_000));
        return image;
    }

    /**
     * Writes the tree as a POSIX tar, entries in name order, with the owners the files have inside the sandbox (the
     * image's). This runs in the service, not in the sandbox: it only reads the tree, never follows a link, and
     * runs nothing from it.
     */
    static void write(Path root, Sandbox sandbox, OutputStream out, Progress progress) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted().toList();
        }
        Map<Long, String> inodes = new HashMap<>();
        long contentBytes = 0; // the percent done is the share of the files' bytes written
        for (Path p : paths) {
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                contentBytes += Files.size(p);
            }
        }
        long written = 0;
        for (Path p : paths) {
            progress.advance(contentBytes == 0 ? 100 : Math.min(100, 100 * written / contentBytes), "");
            String rel = root.relativize(p).toString();
            String name = rel.isEmpty() ? "./" : "./" + rel;
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,ino,nlink,size,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & 0170000;
            TarArchiveEntry e;
            boolean content = false;
            if (type == 0040000) {
                e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarArchiveEntry.LF_DIR);
            } else if (type == 0120000) {
                e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                e.setLinkName(Files.readSymbolicLink(p).toString());
            } else if (type == 0100000) {
                long ino = (Long) a.get("ino");
                String first = (Integer) a.get("nlink") > 1 ? inodes.putIfAbsent(ino, name) : null;
                if (first != null) {
                    e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
                    e.setLinkName(first);
                } else {
                    e = new TarArchiveEntry(name);
                    e.setSize((Long) a.get("size"));
                    content = true;
                }
            } else {
                continue; // sockets, fifos and devices have no place in an image tree
            }
            e.setMode(mode & 07777);
            e.setUserId(sandbox.inside(Integer.toUnsignedLong((Integer) a.get("uid")), false));
            e.setGroupId(sandbox.inside(Integer.toUnsignedLong((Integer) a.get("gid")), true));
            e.setModTime(((FileTime) a.get("lastModifiedTime")).toMillis());
            tar.putArchiveEntry(e);
            if (content) {
                try (InputStream in = Files.newInputStream(p)) {
                    written += in.transferTo(tar);
                }
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.flush();
    }
}
