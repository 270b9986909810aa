package dev.kiln.api.weldr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The routes of remote build workers, with the test as the worker: a node with no build slot
 * ({@code kiln.compose.build-concurrency=0}) queues a compose, the test locks its {@code build} task over
 * {@code /engine-rest} with the API token, as {@code kiln worker} does, and uses {@code /api/kiln/worker/<task>/}
 * as the holder, as another worker, with bad names, and with an image whose SHA-256 is not what it says.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + WorkerRoutesTest.ROOT + "/state", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + WorkerRoutesTest.ROOT + "/apt", "kiln.compose.build-concurrency=0",
        "kiln.api.tcp-weldr=true", "kiln.worker.max-image-bytes=1048576"})
class WorkerRoutesTest {

    static final String ROOT = "target/it/worker-routes";
    static final DebRepository REPO = TestServer.freshSmallRepository(ROOT);
    static final String WORKER = "test-worker-build-1";

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> send(String method, String path, String authorization, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        b.header("Content-Type", "application/json");
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    String bearer() {
        return "Bearer " + TestServer.token(Path.of(ROOT, "state"));
    }

    HttpResponse<String> worker(String method, String task, String what, String worker, byte[] body) throws Exception {
        return send(method, "/api/kiln/worker/" + task + "/" + what + (what.contains("?") ? "&" : "?") + "worker="
                + worker, bearer(), body);
    }

    static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    static String lockBody(String worker, String uuid) {
        return "{\"workerId\": \"" + worker + "\", \"maxTasks\": 1, \"usePriority\": true, \"topics\": "
                + "[{\"topicName\": \"build\", \"lockDuration\": 60000, \"businessKey\": \"" + uuid + "\"}]}";
    }

    /** Locks the compose's build task over /engine-rest with the API token, as kiln worker does; answers its id. */
    String lockBuild(String worker, String uuid) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            JsonNode locked = TestServer.JSON.readTree(send("POST", "/engine-rest/external-task/fetchAndLock", bearer(),
                    lockBody(worker, uuid).getBytes()).body());
            if (!locked.isEmpty()) {
                return locked.get(0).path("id").asText();
            }
            Thread.sleep(100);
        }
        return null;
    }

    @Test
    void aWorkerHoldingTheBuildTaskGetsItsInputsAndHandsBackItsImage() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        String uuid = server.start("site", "tar", 0);
        Path results = Path.of(ROOT, "state/results", uuid);

        // /engine-rest: the token is a worker's credential there; a wrong one is not, nor is none
        String lock = lockBody(WORKER, uuid);
        assertThat(send("POST", "/engine-rest/external-task/fetchAndLock", null, lock.getBytes()).statusCode()).isEqualTo(401);
        assertThat(send("POST", "/engine-rest/external-task/fetchAndLock", "Bearer " + "0".repeat(64), lock.getBytes())
                .statusCode()).isEqualTo(401);
        String task = lockBuild(WORKER, uuid);
        assertThat(task).as("the build task, locked over /engine-rest").isNotNull();

        // inputs: the holder reads the plan; nobody else does, and nothing outside the list
        HttpResponse<String> deps = worker("GET", task, "input/deps.toml", WORKER, null);
        assertThat(deps.statusCode()).isEqualTo(200);
        assertThat(deps.body()).isEqualTo(Files.readString(results.resolve("deps.toml")));
        assertThat(worker("GET", task, "input/final-kickstart.ks", WORKER, null).body())
                .isEqualTo(Files.readString(results.resolve("final-kickstart.ks")));
        assertThat(worker("GET", task, "input/deps.toml", "another-worker", null).statusCode()).isEqualTo(409);
        assertThat(worker("GET", task, "input/deps.toml", "another-worker", null).body()).contains("TaskNotHeld");
        assertThat(worker("GET", "no-such-task", "input/deps.toml", WORKER, null).statusCode()).isEqualTo(409);
        assertThat(worker("GET", task, "input/STATUS", WORKER, null).body()).contains("UnknownInput");
        assertThat(worker("GET", task, "input/..%2F..%2Fapi-token", WORKER, null).statusCode()).isIn(400, 404);
        assertThat(worker("GET", task, "input/deps.toml", "bad%0Aworker", null).body()).contains("InvalidChars");
        assertThat(worker("GET", "..%2Fx", "input/deps.toml", WORKER, null).statusCode()).isIn(400, 404);
        assertThat(worker("GET", task, "input/image", WORKER, null).statusCode()).isEqualTo(404); // not built yet

        // on TCP the token is needed, as for the rest of /api
        assertThat(send("GET", "/api/kiln/worker/" + task + "/input/deps.toml?worker=" + WORKER, null, null)
                .statusCode()).isEqualTo(401);

        // the step's start and log lines (control characters replaced), log files with safe names only
        assertThat(worker("POST", task, "started", WORKER, new byte[0]).statusCode()).isEqualTo(200);
        assertThat(Files.readString(results.resolve("STATUS"))).isEqualTo("RUNNING\n");
        assertThat(worker("POST", task, "log", WORKER, "unpacking 3 packages\nbell\u0007 and %post\r\n".getBytes())
                .body()).contains("\"lines\":2");
        String log = Files.readString(results.resolve("logs/combined.log"));
        assertThat(log).contains("[" + WORKER + "] unpacking 3 packages").contains("[" + WORKER + "] bell? and %post");
        assertThat(worker("PUT", task, "logs/console.log", WORKER, "console\n".getBytes()).statusCode()).isEqualTo(200);
        assertThat(results.resolve("logs/console.log")).hasContent("console");
        assertThat(worker("PUT", task, "logs/combined.log", WORKER, "x".getBytes()).body()).contains("InvalidChars");
        // the SBOM the worker wrote from the tree: an SPDX JSON document, at most 16 MiB, from the holder only
        String spdx = "{\"spdxVersion\": \"SPDX-2.3\", \"packages\": []}";
        assertThat(worker("PUT", task, "sbom", WORKER, spdx.getBytes()).statusCode()).isEqualTo(200);
        assertThat(results.resolve("sbom.spdx.json")).hasContent(spdx);
        assertThat(worker("PUT", task, "sbom", WORKER, "not json".getBytes()).body()).contains("SPDX JSON document");
        assertThat(worker("PUT", task, "sbom", WORKER, "{\"a\": 1}".getBytes()).body()).contains("SPDX JSON document");
        assertThat(worker("PUT", task, "sbom", WORKER, new byte[(16 << 20) + 1]).body()).contains("at most");
        assertThat(worker("PUT", task, "sbom", "another-worker", spdx.getBytes()).statusCode()).isEqualTo(409);
        assertThat(results.resolve("sbom.spdx.json")).hasContent(spdx);
        assertThat(worker("PUT", task, "logs/..%2Fblueprint.toml", WORKER, "x".getBytes()).statusCode()).isIn(400, 404);

        // the step's current phase: what compose info shows; checked field by field, from the holder only
        String report = "{\"seq\": 7, \"step\": \"build\", \"phase\": \"configure\", \"done\": 3, \"total\": 9,"
                + " \"unit\": \"packages\", \"item\": \"libc6\"}";
        assertThat(worker("PUT", task, "progress", WORKER, report.getBytes()).statusCode()).isEqualTo(200);
        assertThat(results.resolve("compose/progress.json")).exists();
        assertThat(server.get("/api/v1/compose/info/" + uuid).path("phase").asText())
                .isEqualTo("configure 3/9 packages (libc6)");
        for (String hostile : List.of("not json", "[]", "{\"phase\": \"x\", \"evil\": 1}",
                "{\"phase\": \"a\\nb\"}", "{\"phase\": \"x\", \"done\": -4}")) {
            assertThat(worker("PUT", task, "progress", WORKER, hostile.getBytes()).body()).as(hostile)
                    .contains("not a progress report");
        }
        assertThat(worker("PUT", task, "progress", WORKER, new byte[16 * 1024 + 1]).body()).contains("at most");
        assertThat(worker("PUT", task, "progress", "another-worker", report.getBytes()).statusCode()).isEqualTo(409);
        assertThat(server.get("/api/v1/compose/info/" + uuid).path("progress").path("seq").asInt()).isEqualTo(7);
        // the step's entries of metrics.json, added to the compose's (malformed entries left out)
        String metrics = "{\"steps\": [{\"step\": \"build\", \"seconds\": 12.5, \"outcome\": \"done\"}, {\"step\": \"a b\"}],"
                + " \"phases\": [{\"step\": \"build\", \"phase\": \"mkfs\", \"seconds\": 2.25, \"bytes\": 10}]}";
        assertThat(worker("PUT", task, "metrics", WORKER, metrics.getBytes()).statusCode()).isEqualTo(200);
        assertThat(worker("PUT", task, "metrics", WORKER, "[1]".getBytes()).body()).contains("JSON object");
        assertThat(worker("PUT", task, "metrics", "another-worker", metrics.getBytes()).statusCode()).isEqualTo(409);
        JsonNode kept = server.get("/api/kiln/compose/metrics/" + uuid);
        JsonNode last = kept.path("steps").get(kept.path("steps").size() - 1); // after depsolve, freeze, kickstart
        assertThat(last.toString()).isEqualTo("{\"step\":\"build\",\"seconds\":12.5,\"outcome\":\"done\"}");
        assertThat(kept.toString()).doesNotContain("a b");
        assertThat(server.call("GET", "/api/kiln/compose/metrics/" + uuid, null, null).body())
                .as("times as decimals").containsPattern("\"started\" : \\d{10}\\.\\d+").doesNotContain("E9");
        assertThat(kept.at("/phases/0/phase").asText()).isEqualTo("mkfs");

        // the image: refused when its digest is not what it says (nothing left), kept when it is
        byte[] image = "an image built elsewhere\n".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> wrong = worker("PUT", task, "image?sha256=" + sha256("other".getBytes()), WORKER, image);
        assertThat(wrong.statusCode()).isEqualTo(409);
        assertThat(wrong.body()).contains("ImageRefused");
        assertThat(worker("PUT", task, "image?sha256=XYZ", WORKER, image).body()).contains("64 lower-case hex");
        assertThat(worker("PUT", task, "image?sha256=" + sha256(image), "another-worker", image).statusCode())
                .isEqualTo(409);
        byte[] huge = new byte[(1 << 20) + 1]; // one byte past kiln.worker.max-image-bytes
        HttpResponse<String> tooLarge = worker("PUT", task, "image?sha256=" + sha256(huge), WORKER, huge);
        assertThat(tooLarge.statusCode()).isEqualTo(409);
        assertThat(tooLarge.body()).contains("ImageRefused").contains("larger than 1048576 bytes");
        // huge log lines and log files, a quote or NUL in the worker's id: clear 4xx answers
        assertThat(worker("POST", task, "log", WORKER, new byte[64 * 1024 + 1]).body()).contains("at most 65536 bytes");
        assertThat(worker("PUT", task, "logs/big.log", WORKER, new byte[(16 << 20) + 1]).body())
                .contains("a log file is at most");
        assertThat(worker("POST", task, "log", "a%22b", "x\n".getBytes()).body()).contains("InvalidChars");
        assertThat(worker("POST", task, "log", "a%00b", "x\n".getBytes()).statusCode()).isBetween(400, 499);
        try (Stream<Path> left = Files.list(results.resolve("compose"))) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".upload-"))
                    .doesNotContain("root.tar.xz");
        }
        assertThat(worker("PUT", task, "image?sha256=" + sha256(image), WORKER, image).body()).contains("\"size\":25");
        assertThat(results.resolve("compose/root.tar.xz")).hasBinaryContent(image);
        assertThat(worker("GET", task, "input/image", WORKER, null).body()).isEqualTo(new String(image));

        // completed over /engine-rest: the node finishes the compose with that image; the task is no one's now
        String complete = "{\"workerId\": \"" + WORKER + "\"}";
        assertThat(send("POST", "/engine-rest/external-task/" + task + "/complete", bearer(), complete.getBytes())
                .statusCode()).isEqualTo(204);
        assertThat(server.await(uuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(results.resolve("root.tar.xz")).hasBinaryContent(image);
        assertThat(worker("PUT", task, "image?sha256=" + sha256(image), WORKER, image).statusCode()).isEqualTo(409);
        assertThat(worker("POST", task, "log", WORKER, "late\n".getBytes()).statusCode()).isEqualTo(409);
    }

    @Test
    void aFailureReportedByTheHolderFailsTheCompose() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        String uuid = server.start("site", "tar", 0);
        String task = lockBuild("w2", uuid);
        assertThat(task).isNotNull();
        assertThat(worker("POST", task, "failed", "w2", "build: dpkg exited 1\n".getBytes()).statusCode()).isEqualTo(200);
        String error = "{\"workerId\": \"w2\", \"errorCode\": \"COMPOSE_FAILED\", \"errorMessage\": \"build: dpkg exited 1\"}";
        assertThat(send("POST", "/engine-rest/external-task/" + task + "/bpmnError", bearer(), error.getBytes())
                .statusCode()).isEqualTo(204);
        assertThat(server.await(uuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        Path results = Path.of(ROOT, "state/results", uuid);
        assertThat(Files.readString(results.resolve("STATUS"))).isEqualTo("FAILED\n");
        assertThat(Files.readString(results.resolve("logs/combined.log"))).contains("ERROR: build: dpkg exited 1");
    }
}
