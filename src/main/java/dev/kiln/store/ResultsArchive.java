package dev.kiln.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** The uncompressed tar archives of a results directory: metadata, logs, or everything (spec §1.11). */
public final class ResultsArchive {

    private ResultsArchive() {
    }

    /** Every top-level entry except {@code logs/} and the image. */
    public static void metadata(ResultsDir results, String imageName, OutputStream out) throws IOException {
        write(results, out, p -> {
            String top = results.path().relativize(p).getName(0).toString();
            return !top.equals(ResultsDir.LOGS) && !top.equals(imageName);
        });
    }

    /** The {@code logs/} tree. */
    public static void logs(ResultsDir results, OutputStream out) throws IOException {
        write(results, out, p -> results.path().relativize(p).getName(0).toString().equals(ResultsDir.LOGS));
    }

    /** Metadata, logs and the image. */
    public static void results(ResultsDir results, OutputStream out) throws IOException {
        write(results, out, p -> true);
    }

    private static void write(ResultsDir results, OutputStream out, Predicate<Path> keep)
            throws IOException {
        Path root = results.path();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(p -> !p.equals(root)).filter(keep)
                    .filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        }
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (Path p : files) {
            String name = root.relativize(p).toString();
            if (Files.isDirectory(p)) {
                TarArchiveEntry dir = new TarArchiveEntry(name + "/");
                dir.setMode(0755 | TarArchiveEntry.DEFAULT_DIR_MODE & ~0777);
                dir.setModTime(Files.getLastModifiedTime(p));
                tar.putArchiveEntry(dir);
                tar.closeArchiveEntry();
            } else if (Files.isRegularFile(p)) {
                TarArchiveEntry entry = new TarArchiveEntry(name);
                entry.setSize(Files.size(p));
                entry.setMode(0644 | TarArchiveEntry.DEFAULT_FILE_MODE & ~0777);
                entry.setModTime(Files.getLastModifiedTime(p));
                tar.putArchiveEntry(entry);
                try (InputStream in = Files.newInputStream(p)) {
                    in.transferTo(tar);
                }
                tar.closeArchiveEntry();
            }
        }
        tar.finish();
        tar.flush();
    }
}
