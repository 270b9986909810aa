package dev.kiln.image.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Memory touched ahead for a disk: zeros where the root goes, taken by the disk or deleted, never a file reused. */
class DiskMemoryTest {

    @TempDir
    Path dir;

    @Test
    void zerosWhereTheRootGoesTakenByTheDisk() throws Exception {
        Path file = dir.resolve("c.disk");
        DiskMemory m = DiskMemory.start(file, 4096, 3 * 1024 * 1024 + 5);
        assertThat(m).isNotNull();
        long deadline = System.currentTimeMillis() + 30_000;
        while (m.written() < 3 * 1024 * 1024 + 5 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Path taken = m.take();
        assertThat(taken).isEqualTo(file);
        assertThat(m.written()).isEqualTo(3 * 1024 * 1024 + 5);
        assertThat(Files.size(file)).isEqualTo(4096 + 3 * 1024 * 1024 + 5);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] all = new byte[(int) f.length()];
            f.readFully(all);
            for (byte b : all) {
                assertThat(b).isZero();
            }
        }
        m.close();
        assertThat(file).as("the disk took it: not deleted").exists();
    }

    @Test
    void deletedUnlessTakenAndNeverStartedOverAFile() throws Exception {
        Path file = dir.resolve("d.disk");
        DiskMemory m = DiskMemory.start(file, 4096, 1L << 30);
        assertThat(m).isNotNull();
        m.close(); // stopped at once, whatever it wrote
        assertThat(file).doesNotExist();

        Files.writeString(file, "someone's");
        assertThat(DiskMemory.start(file, 0, 1024)).isNull();
        assertThat(file).hasContent("someone's");
        assertThat(DiskMemory.start(dir.resolve("e.disk"), 0, 0)).isNull();
        assertThat(DiskMemory.start(dir.resolve("f.disk"), 0, Long.MAX_VALUE / 4)).as("no room for it").isNull();
    }
}
