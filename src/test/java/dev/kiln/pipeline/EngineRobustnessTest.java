package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.CliRun;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.HistoryService;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * What lives in the engine cannot break the Weldr API, and racing cancels cannot break the engine: instances
 * started through {@code /engine-rest} without a compose's business key (or with a taken one) are left out of
 * every listing and never touch a compose's results; 200 cancels racing with starts leave the engine healthy, no
 * process behind, and the next compose finishes.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + EngineRobustnessTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + EngineRobustnessTest.ROOT + "/apt", "kiln.compose.test-build-seconds=1",
        "kiln.compose.build-concurrency=2", "kiln.compose.lock-seconds=6"})
class EngineRobustnessTest {

    static final String ROOT = "target/it/engine-robustness";
    static final DebRepository REPO;
    static final List<String> ROUTES = List.of("/api/v1/compose/queue", "/api/v1/compose/finished",
            "/api/v1/compose/failed", "/api/v1/compose/status/*", "/api/v1/compose/types");

    static {
        REPO = TestServer.freshSmallRepository(ROOT);
    }

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    HistoryService history;
    TestServer server;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void connect() {
        server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
    }

    /** Starts the compose process through the engine's REST API, as a Cockpit or script user would. */
    HttpResponse<String> engineStart(String json) throws Exception {
        String password = Files.readString(Path.of(ROOT, "state/engine/admin-password")).strip();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/engine-rest/process-definition/key/compose/start"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        ("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    void everyRouteAnswers(String... mustList) {
        for (String route : ROUTES) {
            HttpResponse<String> r = server.call("GET", route, null, null);
            assertThat(r.statusCode()).as(route + ": " + r.body()).isEqualTo(200);
        }
        String all = server.call("GET", "/api/v1/compose/status/*", null, null).body();
        for (String uuid : mustList) {
            assertThat(all.split(uuid, -1).length - 1).as("one entry for " + uuid).isEqualTo(1);
        }
    }

    /**
     * A compose started through the engine (not refused at submission as a Weldr start is) whose blueprint cannot be
     * solved fails in its depsolve step and says why: in compose info (JSON and the CLI's text), status, listings.
     */
    @Test
    void aComposeThatFailsDepsolveSaysWhy() throws Exception {
        server.push("name = \"unsolvable\"\n[[packages]]\nname = \"hello\"\nversion = \"9.*\"\n");
        String uuid = UUID.randomUUID().toString();
        HttpResponse<String> r = engineStart("{\"businessKey\": \"" + uuid + "\", \"variables\": {\"type\": {\"value\": "
                + "\"tar\"}, \"blueprint\": {\"value\": \"unsolvable\"}}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(server.await(uuid, 60_000, "FAILED", "FINISHED")).isEqualTo("FAILED");
        JsonNode error = server.get("/api/v1/compose/info/" + uuid).path("error");
        assertThat(error.path("step").asText()).isEqualTo("depsolve");
        assertThat(error.path("reason").asText()).contains("hello").contains("9.*").contains("2.10-3");
        assertThat(server.get("/api/v1/compose/status/" + uuid).at("/uuids/0/error/reason").asText())
                .startsWith("depsolve: ").contains("hello");
        assertThat(server.get("/api/v1/compose/failed").toString()).contains(uuid).contains("\"step\":\"depsolve\"");
        CliRun info = CliRun.of(Path.of(ROOT).toAbsolutePath(), CliRun.tcp(port, Path.of(ROOT, "state")),
                "compose", "info", uuid);
        assertThat(info.out()).containsPattern("FAILED [^\n]*\nError: depsolve: [^\n]*hello[^\n]*9\\.\\*");
        CliRun json = CliRun.of(Path.of(ROOT).toAbsolutePath(), CliRun.tcp(port, Path.of(ROOT, "state")),
                "--json", "compose", "info", uuid);
        JsonNode body = TestServer.JSON.readTree(json.out());
        assertThat(body.toString()).contains("\"step\":\"depsolve\"").contains("9.*");
        // the same blueprint through the Weldr API is refused at submission, and --wait says why
        CliRun waited = CliRun.of(Path.of(ROOT).toAbsolutePath(), CliRun.tcp(port, Path.of(ROOT, "state")),
                "compose", "start", "unsolvable", "tar", "--wait");
        assertThat(waited.exit()).isEqualTo(1);
        assertThat(waited.out() + waited.err()).contains("hello").contains("9.*");
    }

    @Test
    void hostileEngineStartsNeverBreakTheWeldrRoutes() throws Exception {
        String real = server.start("site", "tar", 2);
        assertThat(server.await(real, 60_000, "FINISHED")).isEqualTo("FINISHED");
        Path image = Path.of(ROOT, "state/results", real, "root.tar.xz");
        byte[] before = Files.readAllBytes(image);
        String vars = "\"variables\": {\"type\": {\"value\": \"tar\"}, \"blueprint\": {\"value\": \"site\"}, "
                + "\"version\": {\"value\": \"0.0.1\"}, \"test\": {\"value\": 2}, \"priority\": {\"value\": 1}}";
        List<String> starts = List.of("{}", "{" + vars + "}", "{\"businessKey\": \"not-a-uuid\", " + vars + "}",
                "{\"businessKey\": \"" + UUID.randomUUID() + "\"}",
                "{\"businessKey\": \"" + UUID.randomUUID() + "\", \"variables\": {\"type\": {\"value\": \"floppy\"}}}",
                "{\"businessKey\": \"" + real + "\", " + vars + "}");
        for (String start : starts) {
            HttpResponse<String> r = engineStart(start);
            assertThat(r.statusCode()).as(start + ": " + r.body()).isLessThan(500);
        }
        long deadline = System.currentTimeMillis() + 15_000;
        while (System.currentTimeMillis() < deadline) { // let the workers see every hostile instance
            everyRouteAnswers(real);
            Thread.sleep(500);
        }
        assertThat(server.status(real)).isEqualTo("FINISHED");
        assertThat(Files.readAllBytes(image)).as("the duplicate did not build into the compose").isEqualTo(before);
        assertThat(server.get("/api/v1/compose/info/" + real).path("queue_status").asText()).isEqualTo("FINISHED");
        String another = server.start("site", "tar", 2);
        assertThat(server.await(another, 60_000, "FINISHED")).isEqualTo("FINISHED");
        everyRouteAnswers(real, another);
    }

    @Test
    void twoHundredCancelsRacingWithStartsLeaveTheEngineHealthy() throws Exception {
        BlockingQueue<String> started = new LinkedBlockingQueue<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        int n = 200;
        Thread starter = new Thread(() -> {
            for (int i = 0; i < n; i++) {
                try {
                    started.add(server.start("site", "tar", 2));
                } catch (RuntimeException | AssertionError e) {
                    problems.add("start: " + e);
                }
            }
        });
        starter.start();
        List<Integer> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String uuid = started.poll(60, TimeUnit.SECONDS);
            if (uuid == null) {
                break;
            }
            if (i % 3 == 1) {
                Thread.sleep(30); // some are cancelled while WAITING, some while RUNNING
            }
            HttpResponse<String> r = server.call("DELETE", "/api/v1/compose/cancel/" + uuid, null, null);
            answers.add(r.statusCode());
            if (r.statusCode() >= 500) {
                problems.add("cancel " + uuid + ": " + r.body());
            }
        }
        starter.join(120_000);
        assertThat(problems).isEmpty();
        assertThat(answers).hasSize(n);
        everyRouteAnswers();
        String after = server.start("site", "tar", 2);
        assertThat(server.await(after, 60_000, "FINISHED")).isEqualTo("FINISHED");
        JsonNode listed = server.get("/api/v1/compose/status/*");
        for (JsonNode c : listed.path("uuids")) {
            assertThat(c.path("queue_status").asText()).as(c.toString()).isIn("FINISHED", "FAILED");
        }
        assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("/sleep"))
                .count()).isZero();
    }

    @Test
    void anEngineStartWithOnlyBlueprintAndTypeIsACompose() throws Exception {
        HttpResponse<String> r = engineStart("{\"variables\": {\"blueprint\": {\"value\": \"site\"}, "
                + "\"type\": {\"value\": \"tar\"}, \"test\": {\"value\": 2}}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String uuid = TestServer.JSON.readTree(r.body()).path("businessKey").asText();
        assertThat(uuid).matches("[0-9a-f-]{36}");
        assertThat(server.await(uuid, 60_000, "FINISHED")).isEqualTo("FINISHED");
        JsonNode info = server.get("/api/v1/compose/info/" + uuid);
        assertThat(info.path("blueprint").path("name").asText()).isEqualTo("site");
        assertThat(info.path("compose_type").asText()).isEqualTo("tar");
        try (var files = Files.list(Path.of(ROOT, "state/results", uuid))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("COMMIT",
                    "STATUS", "blueprint.toml", "config.toml", "deps.toml", "final-kickstart.ks", "frozen.toml", "logs",
                    "metrics.json", "root.tar.xz", "tar.ks", "times.toml");
        }
        // what does not pass ends FAILED at once, with the reason
        for (String bad : List.of("{\"blueprint\": {\"value\": \"nope\"}, \"type\": {\"value\": \"tar\"}}",
                "{\"blueprint\": {\"value\": \"site\"}, \"type\": {\"value\": \"floppy\"}}",
                "{\"blueprint\": {\"value\": \"site\"}, \"type\": {\"value\": \"tar\"}, \"size\": {\"value\": -5}}",
                "{\"blueprint\": {\"value\": \"../etc\"}, \"type\": {\"value\": \"tar\"}}")) {
            HttpResponse<String> started = engineStart("{\"variables\": " + bad + "}");
            String id = TestServer.JSON.readTree(started.body()).path("id").asText();
            long deadline = System.currentTimeMillis() + 30_000;
            var h = history.createHistoricProcessInstanceQuery().processInstanceId(id);
            while (h.singleResult().getEndTime() == null && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertThat(h.singleResult().getEndActivityId()).as(bad).isEqualTo(ComposeProcess.END_FAILED);
            assertThat(String.valueOf(history.createHistoricVariableInstanceQuery().processInstanceId(id)
                    .variableName("errorMessage").singleResult().getValue())).as(bad).isNotBlank();
        }
        everyRouteAnswers(uuid);
    }
}
