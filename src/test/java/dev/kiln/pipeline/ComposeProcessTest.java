package dev.kiln.pipeline;

import dev.kiln.testing.DebRepository;
import dev.kiln.testing.KilnProcess;
import dev.kiln.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;

/** The service as a process with two build slots, killed with SIGKILL in the middle of a build and started again. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComposeProcessTest {

    @TempDir
    static Path root;
    static DebRepository repo;
    static KilnProcess kiln;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        repo = TestServer.smallRepository(root);
        Path apt = TestServer.aptDir(root, repo);
        kiln = new KilnProcess(root, "kiln.state-dir=" + root.resolve("state"), "kiln.api.tcp-weldr=true", "kiln.api.socket=",
                "kiln.sources.apt-dir=" + apt, "kiln.compose.build-concurrency=2", "kiln.compose.lock-seconds=3",
                "kiln.compose.test-build-seconds=4", "kiln.compose.test-concurrency=2");
        kiln.start();
        server = new TestServer(kiln.port, kiln.stateDir());
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml",
                "name = \"site\"\n[[packages]]\nname = \"web\"\n").statusCode()).isEqualTo(200);
    }

    @AfterAll
    static void stop() throws Exception {
        kiln.close();
        repo.close();
    }

    /**
     * Two slots build two composes at once, never three: the build steps' times in the three logs overlap two by
     * two. (Test composes have slots of their own, {@code kiln.compose.test-concurrency}, 2 here, beside the build
     * slots; a compose past its build, waiting for finalize, is listed RUNNING too, so the queue is not the measure.)
     */
    @Test
    @Order(1)
    void twoSlotsRunTwoComposesAtOnce() throws Exception {
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            uuids.add(server.start("site", "tar", 2));
        }
        List<long[]> builds = new ArrayList<>();
        for (String u : uuids) {
            server.await(u, 60_000, "FINISHED");
            String log = Files.readString(root.resolve("state/results").resolve(u).resolve("logs/combined.log"));
            builds.add(new long[] {at(log, "build started by"), at(log, "build done in")});
        }
        int most = 0;
        for (long[] b : builds) {
            long t = b[0];
            most = Math.max(most, (int) builds.stream().filter(o -> o[0] <= t && t < o[1]).count());
        }
        assertThat(most).as("builds at once").isEqualTo(2);
    }

    /** The time of the first log line containing {@code text}, in ms of the log's clock. */
    static long at(String log, String text) {
        String line = log.lines().filter(l -> l.contains(text)).findFirst().orElseThrow();
        return java.time.LocalDateTime.parse(line.substring(0, 23).replace(' ', 'T').replace(',', '.'))
                .atZone(java.time.ZoneId.systemDefault()).toInstant().toEpochMilli();
    }

    @Test
    @Order(2)
    void aComposeRunningWhenTheServerIsKilledResumesAndFinishes() throws Exception {
        String uuid = server.start("site", "tar", 2);
        server.await(uuid, 30_000, "RUNNING");
        kiln.kill();
        Path results = root.resolve("state/results").resolve(uuid);
        assertThat(Files.readString(results.resolve("STATUS"))).isEqualTo("RUNNING\n");
        // what a killed service can leave: a results directory no compose owns, a partial download
        Path orphan = Files.createDirectories(root.resolve("state/results").resolve(UUID.randomUUID().toString()));
        Files.writeString(orphan.resolve("STATUS"), "WAITING\n");
        orphan.toFile().setLastModified(System.currentTimeMillis() - 120_000);
        Path partial = Files.createDirectories(root.resolve("state/cache/packages")).resolve(".download-1.tmp");
        Files.writeString(partial, "half a package");
        kiln.start();
        assertThat(server.await(uuid, 90_000, "FINISHED")).isEqualTo("FINISHED");
        assertThat(orphan).doesNotExist();
        assertThat(partial).doesNotExist();
        try (Stream<Path> files = Files.list(results)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("COMMIT",
                    "STATUS", "blueprint.toml", "config.toml", "deps.toml", "final-kickstart.ks",
                    "frozen.toml", "logs", "metrics.json", "root.tar.xz", "tar.ks", "times.toml"); // compose/ removed at the end
        }
        assertThat(Files.readString(results.resolve("root.tar.xz"))).isEqualTo("TEST IMAGE\n");
        String log = Files.readString(results.resolve("logs/combined.log"));
        assertThat(log.split("build started", -1)).hasSize(3); // once before the kill, once after
        assertThat(log.split("finalize done", -1)).hasSize(2);
    }
}
