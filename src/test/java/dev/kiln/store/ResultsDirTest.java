package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a kill leaves of an atomic write goes at the next start; the writes of the running process stay. */
class ResultsDirTest {

    @TempDir
    Path root;

    @Test
    void theTemporaryFilesOfInterruptedWritesAreRemoved() throws Exception {
        String uuid = "0b6e5a5e-8a1f-4a59-9a7c-2d3c4e5f6a7b";
        ResultsDir results = new ResultsDir(root, uuid);
        results.write(ResultsDir.STATUS, "RUNNING\n");
        Path dir = root.resolve(uuid);
        Files.createDirectories(dir.resolve("logs"));
        Path stale = Files.writeString(dir.resolve(".times.toml123.tmp"), "created = 1\n");
        Path staleLog = Files.writeString(dir.resolve("logs/.combined.log9.tmp"), "x");
        for (Path p : new Path[] {stale, staleLog}) { // written before this process started
            Files.setLastModifiedTime(p, FileTime.fromMillis(0));
        }
        Path ours = Files.writeString(dir.resolve(".config.toml77.tmp"), "being written now");
        Path hidden = Files.writeString(dir.resolve(".keep"), "not a temporary file");
        results.removeUnfinishedWrites();
        assertThat(stale).doesNotExist();
        assertThat(staleLog).doesNotExist();
        assertThat(ours).exists();
        assertThat(hidden).exists();
        assertThat(dir.resolve(ResultsDir.STATUS)).hasContent("RUNNING\n");
    }
}
