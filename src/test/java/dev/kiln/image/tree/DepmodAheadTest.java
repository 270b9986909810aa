package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln's {@code depmod} while packages install ({@link DepmodAhead#wrapper}), run by sh with the markers, a module
 * directory and a depmod that records its calls in a temporary directory: {@code depmod VERSION} is done without
 * depmod only when the index begun ahead succeeded and the modules are the ones it was made from; every other case
 * runs depmod, after the index begun ahead is done.
 */
class DepmodAheadTest {

    static final String V = "6.1.0-99-amd64";

    @TempDir
    Path dir;
    Path ahead;
    Path modules;
    Path calls;
    Path wrapper;

    @BeforeEach
    void tree() throws IOException {
        ahead = Files.createDirectories(dir.resolve("ahead"));
        modules = Files.createDirectories(dir.resolve("modules"));
        Path kernel = Files.createDirectories(modules.resolve(V).resolve("kernel/drivers/block"));
        Files.writeString(kernel.resolve("virtio_blk.ko"), "module");
        Files.writeString(kernel.resolveSibling("nvme.ko"), "module");
        Files.writeString(modules.resolve(V).resolve("modules.order"), "kernel/drivers/block/virtio_blk.ko\n");
        Files.writeString(modules.resolve(V).resolve("modules.dep"), "old index\n");
        Files.createSymbolicLink(modules.resolve(V).resolve("build"), Path.of("/usr/src/linux-headers-" + V));
        calls = dir.resolve("calls");
        Path depmod = dir.resolve("depmod");
        Files.writeString(depmod, "#!/bin/sh\necho \"$*\" >> " + calls + "\n");
        Files.setPosixFilePermissions(depmod, PosixFilePermissions.fromString("rwxr-xr-x"));
        wrapper = dir.resolve("wrapper");
        Files.writeString(wrapper, DepmodAhead.wrapper(ahead.toString(), modules.toString(), depmod.toString()));
    }

    /** The index begun now, over the modules as they are, with depmod's exit status {@code status}. */
    void begun(int status) throws IOException {
        Files.writeString(ahead.resolve("begun-" + V), String.valueOf(DepmodAhead.files(modules.resolve(V))));
        Files.writeString(ahead.resolve("done-" + V), String.valueOf(status));
    }

    String run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", wrapper.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    List<String> calls() throws IOException {
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    @Test
    void theKernelsCallIsDoneByTheIndexMadeAhead() throws Exception {
        begun(0);
        Files.writeString(modules.resolve(V).resolve("modules.dep"), "the index made ahead\n"); // its own output
        assertThat(run(V)).contains("the module index made while dpkg configured the other packages");
        assertThat(calls()).isEmpty();
    }

    /** Something done to the modules after the index was begun. */
    interface Change {
        void apply(Path kernel) throws IOException;
    }

    /** The index begun, then {@code change}: the kernel's call runs depmod. */
    void runsDepmodAfter(Change change) throws Exception {
        begun(0);
        Thread.sleep(20); // a later change time than the marker's
        change.apply(modules.resolve(V));
        run(V);
        assertThat(calls()).containsExactly(V);
    }

    @Test
    void aModuleAddedSinceRunsDepmod() throws Exception {
        runsDepmodAfter(k -> Files.writeString(k.resolve("kernel/extra.ko"), "a module built by a later package"));
    }

    @Test
    void aModuleRemovedSinceRunsDepmod() throws Exception {
        runsDepmodAfter(k -> Files.delete(k.resolve("kernel/drivers/nvme.ko")));
    }

    @Test
    void aModuleRewrittenSinceRunsDepmod() throws Exception {
        runsDepmodAfter(k -> Files.writeString(k.resolve("kernel/drivers/nvme.ko"), "rebuilt"));
    }

    @Test
    void aFailedIndexRunsDepmod() throws Exception {
        begun(1);
        run(V);
        assertThat(calls()).containsExactly(V);
    }

    @Test
    void otherCallsAndKernelsRunDepmod() throws Exception {
        begun(0);
        run("-a", V);
        run("6.1.0-98-amd64");
        run();
        assertThat(calls()).containsExactly("-a " + V, "6.1.0-98-amd64", "");
    }

    @Test
    void aCallWaitsForTheIndexBegunAhead() throws Exception {
        Files.writeString(ahead.resolve("begun-" + V), String.valueOf(DepmodAhead.files(modules.resolve(V))));
        Thread done = new Thread(() -> {
            try {
                Thread.sleep(600);
                Files.writeString(ahead.resolve(".done"), "0");
                Files.move(ahead.resolve(".done"), ahead.resolve("done-" + V));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long t0 = System.nanoTime();
        done.start();
        run("-a"); // another call waits too, then runs depmod
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(550);
        done.join();
        assertThat(calls()).containsExactly("-a");
        assertThat(run(V)).contains("made while dpkg configured");
        assertThat(calls()).containsExactly("-a");
    }

    @Test
    void theCountLeavesTheIndexAndDirectoriesOut() throws Exception {
        assertThat(DepmodAhead.files(modules.resolve(V))).isEqualTo(3); // two modules and the build link
        Files.createDirectories(modules.resolve(V).resolve("modules.d"));
        Files.writeString(modules.resolve(V).resolve("modules.d/x.ko"), "pruned as find prunes it");
        assertThat(DepmodAhead.files(modules.resolve(V))).isEqualTo(3);
    }
}
