package dev.kiln.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Writes files so that a reader, or a crash, only ever sees the old content or the whole new content: the data is
 * written to a temporary file (mode 0600) in the same directory, forced to disk, renamed over the target, and the
 * directory is forced too so that the rename itself survives a power loss.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    public static void write(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * As {@link #write}, without forcing anything to disk: a reader still sees the old or the whole new content, but
     * a power loss may leave either (or, for a file new since the last flush, nothing). For files whose loss in a
     * crash costs only information, never a compose (its STATUS, times and metrics: the engine's state decides
     * what a compose is): each force costs 10-50 ms on a busy disk, and a step writes several.
     */
    public static void replace(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.write(tmp, content, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes {@code target} only if it does not exist yet, atomically (a hard link of the whole file, which fails
     * when the name is taken): of several processes making the same secret at once, exactly one wins and the others
     * read its. Answers whether this call made it.
     */
    public static boolean writeNew(Path target, String content, Set<PosixFilePermission> mode) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(mode));
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            try (FileChannel f = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                f.force(true);
            }
            Files.createLink(target, tmp);
            return true;
        } catch (FileAlreadyExistsException taken) {
            return false;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void writeString(Path target, String content) throws IOException {
        write(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Receives a file streamed from elsewhere (a remote worker's image): written to a temporary name beside
     * {@code target} while its SHA-256 is computed, then renamed over {@code target} only if it is complete (at most
     * {@code maxBytes}), its digest is {@code sha256} and {@code stillAllowed} says yes at that moment; otherwise
     * nothing of it is left and {@link RefusedException} says why. Answers the size.
     */
    public static long receive(Path target, InputStream in, long maxBytes, String sha256, BooleanSupplier stillAllowed)
            throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".upload-" + target.getFileName(), ".tmp");
        try {
            MessageDigest digest = sha256();
            long size = 0;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp, StandardOpenOption.WRITE), digest)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    size += n;
                    if (size > maxBytes) {
                        throw new RefusedException("larger than " + maxBytes + " bytes");
                    }
                    out.write(buffer, 0, n);
                }
            }
            String got = HexFormat.of().formatHex(digest.digest());
            if (!got.equalsIgnoreCase(sha256)) {
                throw new RefusedException("SHA-256 " + got + " of the " + size + " bytes received is not " + sha256);
            }
            try (FileChannel f = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                f.force(true);
            }
            if (!stillAllowed.getAsBoolean()) {
                throw new RefusedException("no longer allowed to write " + target.getFileName());
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            return size;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The SHA-256 of a file's content, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A received file that is not kept: too large, not what its digest says, or no longer wanted. */
    public static final class RefusedException extends IOException {
        public RefusedException(String message) {
            super(message);
        }
    }
}
