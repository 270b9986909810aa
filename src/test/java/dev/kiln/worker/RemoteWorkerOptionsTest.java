package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code kiln worker} refuses what it cannot use before it starts anything, with a message and exit code 2. */
class RemoteWorkerOptionsTest {

    static final String TOKEN = "a".repeat(64);

    record Outcome(int exit, String err) {
    }

    static Outcome run(String... args) {
        StringWriter err = new StringWriter();
        int exit = RemoteWorker.run(args, new PrintWriter(err, true));
        return new Outcome(exit, err.toString());
    }

    @Test
    void badNodeUrlsAreRefused() {
        for (String url : new String[] {"ftp://node:4000", "node:4000", "http://", "http://node:4000/x?y=1",
                "http://node\n:4000", "http://no de:4000", "file:///etc/passwd"}) {
            Outcome o = run("--engine", url, "--token", TOKEN);
            assertThat(o.exit()).as(url).isEqualTo(2);
            assertThat(o.err()).as(url).contains("--engine: a node's URL");
        }
    }

    @Test
    void aTokenIsNeededAndMustBeOneLine() throws Exception {
        assertThat(run("--engine", "http://127.0.0.1:9").err()).contains("a worker needs the nodes' API token");
        assertThat(run("--engine", "http://127.0.0.1:9", "--token", "short").exit()).isEqualTo(2);
        assertThat(run("--engine", "http://127.0.0.1:9", "--token", TOKEN + "\nX-Other: 1").err())
                .contains("a worker needs the nodes' API token");
        Path file = Files.createTempFile("kiln-token", "");
        Files.writeString(file, TOKEN + "\n");
        assertThat(run("--engine", "http://127.0.0.1:9", "--token-file", file.toString(), "--worker-id", "a b").err())
                .contains("--worker-id");
        Files.delete(file);
    }

    @Test
    void limitsAreChecked() {
        for (String[] bad : new String[][] {{"--concurrency", "0"}, {"--lock-seconds", "1"}, {"--poll-seconds", "900"},
                {"--drain-seconds", "-1"}, {"--retries", "0"}}) {
            Outcome o = run("--engine", "http://127.0.0.1:9", "--token", TOKEN, bad[0], bad[1]);
            assertThat(o.exit()).as(bad[0]).isEqualTo(2);
            assertThat(o.err()).as(bad[0]).contains("--concurrency ≥ 1");
        }
    }
}
