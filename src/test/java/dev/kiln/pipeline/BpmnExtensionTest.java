package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Extending the pipeline by BPMN, as a user would: {@code <state-dir>/bpmn/compose.bpmn} gets a step of a new topic,
 * {@code notify}, after {@code build}; a worker in another language (Python, over {@code /engine-rest}) serves it
 * and writes to the compose's log. While it waits the compose is RUNNING at step {@code notify}, its log can be read,
 * and it finishes once the worker completes the task.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + BpmnExtensionTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + BpmnExtensionTest.ROOT + "/apt", "kiln.compose.test-build-seconds=1",
        "kiln.compose.timeout.notify=20s"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BpmnExtensionTest {

    static final String ROOT = "target/it/bpmn-extension";
    static final DebRepository REPO = TestServer.freshSmallRepository(ROOT);

    static {
        try (InputStream in = BpmnExtensionTest.class.getClassLoader().getResourceAsStream(ComposeProcess.RESOURCE)) {
            String bpmn = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            String flow = "<bpmn:sequenceFlow id=\"to_boot_test_wanted\" sourceRef=\"build\" targetRef=\"boot_test_wanted\"/>";
            assertThat(bpmn).contains(flow);
            bpmn = bpmn.replace(flow, "<bpmn:sequenceFlow id=\"to_boot_test_wanted\" sourceRef=\"build\" targetRef=\"notify\"/>\n"
                    + "      <bpmn:serviceTask id=\"notify\" name=\"Notify\" operaton:type=\"external\" operaton:topic=\"notify\""
                    + " operaton:taskPriority=\"${priority}\"/>\n"
                    + "      <bpmn:sequenceFlow id=\"notified\" sourceRef=\"notify\" targetRef=\"boot_test_wanted\"/>");
            Path dir = Files.createDirectories(Path.of(ROOT, "state/bpmn"));
            Files.writeString(dir.resolve("compose.bpmn"), bpmn);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The worker: fetch and lock one notify task, log a line to its compose, complete it. */
    static final String WORKER = """
            import base64, json, sys, time, urllib.request
            port, password, token = sys.argv[1], sys.argv[2], sys.argv[3]
            auth = "Basic " + base64.b64encode(("admin:" + password).encode()).decode()
            def call(path, body, headers):
                req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req) as r:
                    text = r.read().decode()
                    return json.loads(text) if text else None
            fetch = json.dumps({"workerId": "python-notifier", "maxTasks": 1,
                                "topics": [{"topicName": "notify", "lockDuration": 30000}]}).encode()
            for _ in range(300):
                tasks = call("/engine-rest/external-task/fetchAndLock", fetch, {"Authorization": auth, "Content-Type": "application/json"})
                if tasks:
                    break
                time.sleep(0.1)
            task = tasks[0]
            call("/api/kiln/compose/log/" + task["businessKey"], b"notified by python\\n",
                 {"Authorization": "Bearer " + token, "Content-Type": "text/plain"})
            call("/engine-rest/external-task/%s/complete" % task["id"], json.dumps({"workerId": "python-notifier"}).encode(),
                 {"Authorization": auth, "Content-Type": "application/json"})
            print(task["businessKey"])
            """;

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;

    @Test
    @Order(1)
    void aStepAddedToTheBpmnRunsWithAWorkerInAnotherLanguage() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        String uuid = server.start("site", "tar", 2);
        long deadline = System.currentTimeMillis() + 30_000;
        JsonNode info = server.get("/api/v1/compose/info/" + uuid);
        while (!info.path("step").asText().equals("notify") && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            info = server.get("/api/v1/compose/info/" + uuid);
        }
        assertThat(info.path("step").asText()).isEqualTo("notify");
        assertThat(info.path("queue_status").asText()).isEqualTo("RUNNING");
        HttpResponse<String> log = server.call("GET", "/api/v1/compose/log/" + uuid, null, null);
        assertThat(log.body()).contains("build done").doesNotContain("has not started");

        Path script = Files.writeString(Path.of(ROOT, "notify-worker.py"), WORKER);
        Process worker = new ProcessBuilder("python3", script.toString(), String.valueOf(port),
                Files.readString(Path.of(ROOT, "state/engine/admin-password")).strip(),
                TestServer.token(Path.of(ROOT, "state"))).redirectErrorStream(true).start();
        assertThat(worker.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(worker.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(worker.exitValue()).as(out).isZero();
        assertThat(out.strip()).isEqualTo(uuid);
        assertThat(server.await(uuid, 30_000, "FINISHED")).isEqualTo("FINISHED");
        assertThat(server.call("GET", "/api/v1/compose/log/" + uuid, null, null).body())
                .contains("[worker] notified by python");
    }

    @Test
    @Order(2)
    void aStepNobodyServesFailsTheComposeAfterItsTimeout() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        String uuid = server.start("site", "tar", 2);
        assertThat(server.await(uuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "logs/combined.log")))
                .contains("notify: no worker took the step within 20s (kiln.compose.timeout.notify)");
    }
}
