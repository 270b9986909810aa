package dev.kiln.image.format;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** qemu-img writes around the page cache where the file system allows it, and nothing of the probe is left. */
class QemuImgBuilderTest {

    @TempDir
    Path dir;

    @Test
    void aDiskTakesDirectWritesAndTheProbeGoes() throws Exception {
        assertThat(QemuImgBuilder.direct(dir)).isTrue();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left).as("the probe is gone").isEmpty();
        }
        assertThat(QemuImgBuilder.direct(dir.resolve("missing"))).as("a place it cannot write").isFalse();
    }
}
