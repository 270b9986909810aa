package dev.kiln.image.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WriteBehindTest {

    private static final int MIB = 1 << 20;
    private static final int CHUNKS = 192;

    /** A file on disk (the build directory), not on tmpfs: where the page cache holds what is written. */
    private static Path scratch(String name) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "write-behind-test")).toAbsolutePath();
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        return file;
    }

    /** Writes CHUNKS MiB of seeded bytes at about 1 MiB a few ms (as a tool does); their SHA-256. */
    private static String write(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(18);
        byte[] chunk = new byte[MIB];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int i = 0; i < CHUNKS; i++) {
                random.nextBytes(chunk);
                sha.update(chunk);
                ByteBuffer b = ByteBuffer.wrap(chunk);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                Thread.sleep(2);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static long cached(Path file) throws Exception {
        Process p = new ProcessBuilder(List.of("fincore", "--bytes", "--noheadings", "--output", "RES",
                file.toString())).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.waitFor()).as(out).isZero();
        return Long.parseLong(out);
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] b = new byte[MIB];
            for (int n; (n = in.read(b)) > 0;) {
                sha.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    @Test
    void aFileWrittenBesideItLeavesLittleInThePageCacheAndKeepsEveryByte() throws Exception {
        assertThat(WriteBehind.available()).as("libc bound through JNA").isTrue();
        Path kept = scratch("kept");
        String keptSha = write(kept);
        Thread.sleep(200);
        assertThat(cached(kept)).as("without it: what was written stays cached")
                .isGreaterThan(CHUNKS * (long) MIB * 9 / 10);

        Path file = scratch("behind");
        String sha;
        try (WriteBehind w = WriteBehind.start(file)) {
            assertThat(w).isNotNull();
            sha = write(file);
            Thread.sleep(300); // a few passes after the last write: all of it on the disk and let go
            assertThat(cached(file)).as("with it").isLessThan(CHUNKS * (long) MIB / 4);
        }
        assertThat(sha).isEqualTo(keptSha);
        assertThat(sha256(file)).as("read back from the disk").isEqualTo(sha);
        assertThat(Files.size(file)).isEqualTo(CHUNKS * (long) MIB);
        Files.delete(file);
        Files.delete(kept);
    }

    @Test
    void nothingIsStartedForAFileInMemoryNorHarmDoneToAFileThatIsNotRegular() throws Exception {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type())) {
            assertThat(WriteBehind.start(shm.resolve("kiln-write-behind-test"))).isNull();
        }
        Path dir = scratch("a-directory");
        Files.createDirectory(dir);
        Path link = scratch("a-link");
        Files.createSymbolicLink(link, dir);
        try (WriteBehind w = WriteBehind.start(link); WriteBehind d = WriteBehind.start(dir)) {
            Thread.sleep(120); // passes that find no regular file and open nothing
        }
        assertThat(Files.isDirectory(dir)).isTrue();
        Files.delete(link);
        Files.delete(dir);
    }
}
