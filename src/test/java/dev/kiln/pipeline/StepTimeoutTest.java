package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.HistoryService;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** A step that runs past its timeout ({@code kiln.compose.timeout.<topic>}) is stopped and fails the compose. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + StepTimeoutTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + StepTimeoutTest.ROOT + "/apt", "kiln.compose.test-build-seconds=60",
        "kiln.compose.timeout.build=2s"})
class StepTimeoutTest {

    static final String ROOT = "target/it/step-timeout";
    static final DebRepository REPO = TestServer.freshSmallRepository(ROOT);

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    HistoryService history;

    @Test
    void aHungStepFailsTheComposeWithItsTimeout() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        long t0 = System.nanoTime();
        String uuid = server.start("site", "tar", 2); // its build "runs" 60 s, its timeout is 2 s
        assertThat(server.await(uuid, 30_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(20);
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "logs/combined.log")))
                .contains("build: timed out after 2s (kiln.compose.timeout.build)");
        var instance = history.createHistoricProcessInstanceQuery().processInstanceBusinessKey(uuid).singleResult();
        assertThat(instance.getEndActivityId()).isEqualTo(ComposeProcess.END_FAILED);
        assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("/sleep"))
                .count()).isZero();
    }
}
