package dev.kiln.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.output.OutputType;
import dev.kiln.testing.CliRun;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.model.bpmn.Bpmn;
import org.operaton.bpm.model.bpmn.instance.ServiceTask;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import static org.assertj.core.api.Assertions.assertThat;

/** Composes through the real server and engine, in lorax's test mode, from a real signed local repository. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + ComposeApiTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + ComposeApiTest.ROOT + "/apt", "kiln.compose.test-build-seconds=1",
        "kiln.compose.retry-backoff-ms=100", "kiln.compose.lock-seconds=6", "kiln.compose.test-concurrency=1",
        "spring.main.allow-bean-definition-overriding=true"})
class ComposeApiTest {

    static final String ROOT = "target/it/compose-api";
    static final DebRepository REPO;
    /**
     * A finished compose's directory: the seed's files without the scratch {@code compose/}, which finalize removes,
     * and Kiln's {@code metrics.json} beside {@code times.toml}.
     */
    static final List<String> SEED_FILES = List.of("COMMIT", "STATUS", "blueprint.toml", "config.toml",
            "deps.toml", "final-kickstart.ks", "frozen.toml", "logs", "metrics.json", "tar.ks", "times.toml");

    static {
        REPO = TestServer.freshSmallRepository(ROOT);
    }

    /** Fails twice for the blueprint named "flaky", then does the real finalize. */
    @TestConfiguration
    static class Flaky {
        @Bean
        ComposeStep finalizeStep() {
            FinalizeStep real = new FinalizeStep();
            int[] failures = {0};
            return new ComposeStep() {
                @Override
                public String topic() {
                    return real.topic();
                }

                @Override
                public void execute(ComposeTask task) throws Exception {
                    if (task.results().read("blueprint.toml").contains("name = \"flaky\"") && failures[0]++ < 2) {
                        throw new IOException("disk hiccup " + failures[0]);
                    }
                    real.execute(task);
                }
            };
        }
    }

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    HistoryService history;
    @Autowired
    Workers workers;
    TestServer server;

    @BeforeEach
    void connect() {
        server = new TestServer(port, Path.of(ROOT, "state"));
        push("name = \"site\"\ndescription = \"a site\"\nversion = \"0.1.0\"\n[[packages]]\nname = \"web\"\nversion = \"*\"\n"
                + "[customizations]\nhostname = \"web1\"\n[[customizations.sshkey]]\nuser = \"root\"\nkey = \"ssh-ed25519 AAAA test\"\n"
                + "[customizations.kernel]\nappend = \"nosmt=force\"\n");
    }

    void push(String toml) {
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", toml).statusCode()).isEqualTo(200);
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static List<String> tarNames(byte[] tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                names.add(e.getName());
            }
        }
        return names;
    }

    byte[] bytes(String path) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<byte[]> r = http.send(TestServer.request(port, Path.of(ROOT, "state"), path).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    @Test
    void aFinishedTestComposeHoldsTheSeedsFilesAndTheImage() throws Exception {
        String uuid = server.start("site", "tar", 2);
        Path results = Path.of(ROOT, "state/results", uuid);
        assertThat(server.await(uuid, 30_000, "RUNNING", "FINISHED")).isIn("RUNNING", "FINISHED");
        assertThat(server.await(uuid, 30_000, "FINISHED")).isEqualTo("FINISHED");
        List<String> expected = new ArrayList<>(SEED_FILES);
        expected.add("root.tar.xz");
        assertThat(listing(results)).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(Files.readString(results.resolve("STATUS"))).isEqualTo("FINISHED\n");
        assertThat(Files.readString(results.resolve("times.toml"))).contains("created = ", "started = ", "finished = ");
        assertThat(Files.readString(results.resolve("COMMIT"))).matches("[0-9a-f]{40}");
        String ks = Files.readString(results.resolve("final-kickstart.ks"));
        assertThat(ks).contains("network --hostname=web1", "sshkey --user root \"ssh-ed25519 AAAA test\"",
                "web=1.0", "httpd-a=2.4.62-1", "base-files=13");
        assertThat(ks.lines().filter(l -> l.startsWith("bootloader")).findFirst().orElse("")).contains("nosmt=force");
        assertThat(Files.readString(results.resolve("frozen.toml"))).contains("version = \"1.0.amd64\"");
        assertThat(Files.readString(results.resolve("config.toml"))).contains("image_name = \"root.tar.xz\"");

        JsonNode info = server.get("/api/v1/compose/info/" + uuid);
        assertThat(info.path("queue_status").asText()).isEqualTo("FINISHED");
        assertThat(info.path("config").isTextual()).isTrue();
        assertThat(info.at("/deps/packages").findValuesAsText("name")).contains("web", "httpd-a", "libc", "base-files");
        assertThat(info.at("/deps/packages/0/epoch").isNumber()).isTrue();
        assertThat(info.path("image_size").asLong()).isEqualTo(11);

        HttpResponse<String> image = server.call("GET", "/api/v1/compose/image/" + uuid, null, null);
        assertThat(image.body()).isEqualTo("TEST IMAGE\n");
        assertThat(image.headers().firstValue("Content-Disposition")).contains("attachment; filename=" + uuid + "-root.tar.xz");
        assertThat(tarNames(bytes("/api/v1/compose/metadata/" + uuid))).contains("blueprint.toml", "deps.toml",
                "final-kickstart.ks", "tar.ks").doesNotContain("root.tar.xz", "logs/combined.log");
        assertThat(tarNames(bytes("/api/v1/compose/logs/" + uuid))).contains("logs/combined.log");
        assertThat(tarNames(bytes("/api/v1/compose/results/" + uuid))).contains("root.tar.xz", "logs/combined.log", "COMMIT");
        assertThat(server.call("GET", "/api/v1/compose/log/" + uuid, null, null).body()).contains("finalize done");

        assertThat(server.get("/api/v1/compose/finished").path("finished").findValuesAsText("id")).contains(uuid);
        assertThat(server.get("/api/v1/compose/status/*?status=FINISHED&type=tar&blueprint=site").path("uuids")
                .findValuesAsText("id")).contains(uuid);
        assertThat(server.get("/api/v1/compose/status/*?status=FAILED").path("uuids").findValuesAsText("id")).doesNotContain(uuid);
        JsonNode deleted = server.json("DELETE", "/api/v1/compose/delete/" + uuid, null, null);
        assertThat(deleted.at("/uuids/0/status").asBoolean()).isTrue();
        assertThat(results).doesNotExist();
        assertThat(server.status(uuid)).isEqualTo("GONE");
    }

    @Test
    void aFailingTestComposeEndsFailedWithItsReason() throws Exception {
        String uuid = server.start("site", "tar", 1);
        assertThat(server.await(uuid, 30_000, "FAILED")).isEqualTo("FAILED");
        Path results = Path.of(ROOT, "state/results", uuid);
        assertThat(Files.readString(results.resolve("STATUS"))).isEqualTo("FAILED\n");
        assertThat(Files.readString(results.resolve("logs/combined.log"))).contains("TESTING FAILED compose");
        assertThat(server.get("/api/v1/compose/failed").path("failed").findValuesAsText("id")).contains(uuid);
        assertThat(server.call("GET", "/api/v1/compose/image/" + uuid, null, null).body()).contains("BuildMissingFile");
        assertThat(server.call("GET", "/api/v1/compose/logs/" + uuid, null, null).statusCode()).isEqualTo(200);
    }

    /** Test composes have build threads of their own; one of them here, so they queue as builds queue for a slot. */
    @Test
    void fiveComposesWithOneBuildSlotFinishInSubmissionOrder() throws Exception {
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            uuids.add(server.start("site", "tar", 2));
        }
        for (String u : uuids) {
            server.await(u, 60_000, "FINISHED");
        }
        List<Double> finished = new ArrayList<>();
        List<Double> started = new ArrayList<>();
        for (String u : uuids) {
            JsonNode c = server.get("/api/v1/compose/status/" + u).at("/uuids/0");
            finished.add(c.path("job_finished").asDouble());
            started.add(c.path("job_started").asDouble());
        }
        assertThat(finished).isSorted();
        assertThat(started).isSorted();
        for (int i = 1; i < 5; i++) {
            assertThat(started.get(i)).as("one build at a time").isGreaterThanOrEqualTo(finished.get(i - 1) - 1.0);
        }
    }

    @Test
    void cancelDuringRunningLeavesNoProcessAndNoResults() throws Exception {
        String uuid = server.start("site", "tar", 2);
        server.await(uuid, 30_000, "RUNNING");
        Thread.sleep(200);
        assertThat(sleepChildren()).isPositive();
        JsonNode refused = server.json("DELETE", "/api/v1/compose/delete/" + uuid, null, null);
        assertThat(refused.at("/errors/0/id").asText()).isEqualTo("BuildInWrongState");
        HttpResponse<String> cancel = server.call("DELETE", "/api/v1/compose/cancel/" + uuid, null, null);
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        assertThat(sleepChildren()).isZero();
        assertThat(Path.of(ROOT, "state/results", uuid)).doesNotExist();
        assertThat(server.status(uuid)).isEqualTo("GONE");
        assertThat(server.call("GET", "/api/v1/compose/info/" + uuid, null, null).body()).contains("UnknownUUID");
        HttpResponse<String> again = server.call("DELETE", "/api/v1/compose/cancel/" + uuid, null, null);
        assertThat(again.statusCode()).isEqualTo(400);
    }

    static long sleepChildren() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().orElse("").endsWith("/sleep")).count();
    }

    @Test
    void aStepThatFailsTwiceThenSucceedsFinishesWithItsRetriesInHistory() throws Exception {
        push("name = \"flaky\"\n[[packages]]\nname = \"hello\"\n");
        String uuid = server.start("flaky", "tar", 2);
        assertThat(server.await(uuid, 60_000, "FINISHED")).isEqualTo("FINISHED");
        String pid = history.createHistoricProcessInstanceQuery().processInstanceBusinessKey(uuid).singleResult().getId();
        assertThat(history.createHistoricExternalTaskLogQuery().processInstanceId(pid).failureLog().count()).isEqualTo(2);
        assertThat(history.createHistoricExternalTaskLogQuery().processInstanceId(pid).failureLog().list())
                .allSatisfy(l -> assertThat(l.getErrorMessage()).startsWith("compose " + uuid + " (flaky ")
                        .contains(", tar), finalize: disk hiccup"));
        assertThat(history.createHistoricExternalTaskLogQuery().processInstanceId(pid).successLog().list())
                .extracting(l -> l.getTopicName()).contains("finalize");
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "logs/combined.log"))).contains("disk hiccup 2");
    }

    @Test
    void theRootFileSystemSizeOfTheBlueprintIsInThePlan() throws Exception {
        push("name = \"big-root\"\n[[packages]]\nname = \"web\"\n[[customizations.filesystem]]\nmountpoint = \"/\"\nsize = \"4 GiB\"\n");
        String uuid = server.start("big-root", "ext4-filesystem", 2);
        assertThat(server.await(uuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "final-kickstart.ks")))
                .contains("part / --fstype=ext4 --size=4096\n");
    }

    @Test
    void aBootTestIsAStepOfTheComposeWhenAskedFor() throws Exception {
        String uuid = server.start("site", "tar", 2, ", \"boot_test\": true");
        assertThat(server.await(uuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        String log = server.call("GET", "/api/v1/compose/log/" + uuid, null, null).body();
        assertThat(log).contains("with a boot test", "boot test: skipped in test mode", "boot-test done");
        String plain = server.start("site", "tar", 2);
        assertThat(server.await(plain, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(server.call("GET", "/api/v1/compose/log/" + plain, null, null).body()).doesNotContain("boot test");
    }

    @Test
    void submissionIsValidatedUpFront() throws Exception {
        assertError(server.call("POST", "/api/v1/compose", "application/json", ""), "MissingPost");
        assertError(server.call("POST", "/api/v1/compose", "application/json", "{\"compose_type\": \"tar\"}"), "UnknownBlueprint");
        assertError(server.call("POST", "/api/v1/compose", "application/json", "{\"blueprint_name\": \"site\"}"), "BadComposeType");
        assertError(server.call("POST", "/api/v1/compose", "application/json",
                "{\"blueprint_name\": \"../x\", \"compose_type\": \"tar\"}"), "InvalidChars");
        assertError(server.call("POST", "/api/v1/compose", "application/json",
                "{\"blueprint_name\": \"nope\", \"compose_type\": \"tar\"}"), "UnknownBlueprint");
        assertError(server.call("POST", "/api/v1/compose", "application/json",
                "{\"blueprint_name\": \"site\", \"compose_type\": \"floppy\"}"), "BadComposeType");
        assertError(server.call("POST", "/api/v1/compose?test=2", "application/json",
                "{\"blueprint_name\": \"site\", \"compose_type\": \"tar\", \"boot_test\": \"yes\"}"), "BuildFailed");
        for (String size : List.of("9223372036854775807", "17592186044417", "-1", "1.5", "\"4 GiB\"")) {
            assertError(server.call("POST", "/api/v1/compose?test=2", "application/json",
                    "{\"blueprint_name\": \"site\", \"compose_type\": \"tar\", \"size\": " + size + "}"), "BuildFailed");
        }
        for (String name : List.of("-rf", "--help")) { // no name can be read as an option by a tool it reaches
            assertError(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", "name = \"" + name + "\"\n"),
                    "InvalidChars");
        }
        // customizations are checked when the blueprint is pushed (and again at compose start: CustomizationInjectionTest)
        for (String bad : List.of("name = \"etc-fs\"\n[[customizations.filesystem]]\nmountpoint = \"/etc\"\nsize = 1073741824\n",
                "name = \"bad-size\"\n[[customizations.filesystem]]\nmountpoint = \"/\"\nsize = \"lots\"\n",
                "name = \"bad-host\"\n[customizations]\nhostname = \"bad host; rm -rf /\"\n")) {
            HttpResponse<String> refused = server.call("POST", "/api/v1/blueprints/new", "text/x-toml", bad);
            assertError(refused, "BlueprintsError");
            assertThat(refused.body()).containsAnyOf("filesystem.mountpoint", "filesystem.minsize", "hostname");
        }
        push("name = \"unsolvable\"\n[[packages]]\nname = \"broken\"\n");
        HttpResponse<String> r = server.call("POST", "/api/v1/compose?test=2", "application/json",
                "{\"blueprint_name\": \"unsolvable\", \"compose_type\": \"tar\"}");
        assertError(r, "BuildFailed");
        assertThat(r.body()).contains("Problem depsolving unsolvable:", "missing-thing (>= 5)");
        assertThat(server.get("/api/v1/compose/status/*?blueprint=unsolvable").path("uuids")).isEmpty();
    }

    static void assertError(HttpResponse<String> r, String id) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(TestServer.JSON.readTree(r.body()).at("/errors/0/id").asText()).as(r.body()).isEqualTo(id);
    }

    @Test
    void unknownAndMalformedUuidsGetTheSpecsErrors() throws Exception {
        String unknown = "0b4e28ba-2fa1-11d2-883f-0016d3cca427";
        for (String route : List.of("info", "log", "logs", "metadata", "results", "image")) {
            for (String id : List.of(unknown, "not-a-uuid")) {
                HttpResponse<String> r = server.call("GET", "/api/v1/compose/" + route + "/" + id, null, null);
                assertError(r, "UnknownUUID");
            }
            assertError(server.call("GET", "/api/v1/compose/" + route + "/bad%20chars", null, null), "InvalidChars");
        }
        assertError(server.call("DELETE", "/api/v1/compose/cancel/" + unknown, null, null), "UnknownUUID");
        assertThat(server.call("GET", "/api/v1/compose/delete/x", null, null).statusCode()).isEqualTo(405);
        JsonNode delete = server.json("DELETE", "/api/v1/compose/delete/" + unknown + ",zzz", null, null);
        assertThat(delete.path("errors").findValuesAsText("id")).containsExactly("UnknownUUID", "UnknownUUID");
        JsonNode status = server.get("/api/v1/compose/status/" + unknown.toUpperCase() + ",junk");
        assertThat(status.path("uuids")).isEmpty();
        assertThat(status.path("errors").findValuesAsText("msg")).contains(unknown + " is not a valid build uuid");
        assertThat(server.get("/api/v1/compose/types").path("types").findValuesAsText("name")).containsExactly(
                "alibaba", "ami", "ext4-filesystem", "google", "live-iso", "openstack", "partitioned-disk", "qcow2",
                "tar", "vhd", "vmdk");
    }

    @Test
    void everyStepOfKilnsBpmnHasAWorker() {
        List<String> bpmnTopics = Bpmn.readModelFromStream(getClass().getClassLoader()
                .getResourceAsStream(ComposeProcess.RESOURCE)).getModelElementsByType(ServiceTask.class).stream()
                .map(ServiceTask::getOperatonTopic).toList();
        // Kiln's own steps all have a worker here; a topic a user adds is served by a worker of their own
        assertThat(workers.topics()).containsExactlyInAnyOrderElementsOf(ComposeProcess.TOPICS);
        assertThat(bpmnTopics).containsSubsequence(ComposeProcess.TOPICS);
    }


    CliRun cli(Path dir, String... args) {
        return CliRun.of(dir, CliRun.tcp(port, Path.of(ROOT, "state")), args);
    }

    /**
     * {@code compose log --follow}: Kiln's long-poll route answers as soon as lines are written (not when its wait
     * runs out), in whole lines, until the compose has ended and its log is read to the end; the CLI prints the
     * whole log that way and exits as the compose ended (1 when it FAILED).
     */
    @Test
    void followingALogGetsItsLinesAsTheyAreWrittenAndEndsWithTheCompose() throws Exception {
        String uuid = server.start("site", "tar", 2);
        StringBuilder followed = new StringBuilder();
        long next = 0;
        int answersWithLines = 0;
        boolean ended = false;
        long t0 = System.currentTimeMillis();
        while (!ended && System.currentTimeMillis() - t0 < 60_000) {
            long asked = System.nanoTime();
            JsonNode part = server.get("/api/kiln/compose/log/" + uuid + "?after=" + next + "&wait=20");
            long waitedMs = (System.nanoTime() - asked) / 1_000_000;
            String text = part.path("text").asText();
            if (!text.isEmpty()) {
                answersWithLines++;
                assertThat(text).endsWith("\n");
                assertThat(waitedMs).as("answered when lines came, not after the wait").isLessThan(15_000);
            }
            followed.append(text);
            next = part.path("next").asLong();
            ended = part.path("ended").asBoolean();
        }
        assertThat(ended).isTrue();
        assertThat(answersWithLines).as("lines came in more than one answer, as they were written").isGreaterThan(1);
        String log = Files.readString(Path.of(ROOT, "state/results", uuid, "logs/combined.log"));
        assertThat(followed.toString()).isEqualTo(log);
        assertThat(server.get("/api/kiln/compose/log/" + uuid + "?after=" + next + "&wait=20").path("ended").asBoolean())
                .isTrue();
        Path dir = Files.createDirectories(Path.of(ROOT, "follow").toAbsolutePath());
        CliRun cli = cli(dir, "compose", "log", "--follow", uuid);
        assertThat(cli.exit()).as(cli.err()).isZero();
        assertThat(cli.out()).isEqualTo(log);
        String failed = server.start("site", "tar", 1);
        CliRun failing = cli(dir, "compose", "log", "-f", failed);
        assertThat(failing.exit()).isEqualTo(1);
        assertThat(failing.out()).contains("ERROR");
        // bad offsets and waits are refused; a wait is at most 30 s
        assertThat(server.get("/api/kiln/compose/log/" + uuid + "?after=-1").at("/errors/0/id").asText())
                .isEqualTo("ComposeError");
        assertThat(server.get("/api/kiln/compose/log/" + uuid + "?wait=x").at("/errors/0/id").asText())
                .isEqualTo("ComposeError");
        assertThat(server.get("/api/kiln/compose/log/" + java.util.UUID.randomUUID()).at("/errors/0/id").asText())
                .isEqualTo("UnknownUUID");
    }

    @Test
    void theComposeCommandsOfTheCli() throws Exception {
        Path dir = Files.createDirectories(Path.of(ROOT, "cli").toAbsolutePath());
        CliRun start = cli(dir, "--test", "2", "compose", "start", "site", "tar", "--wait");
        assertThat(start.exit()).as(start.err()).isZero();
        assertThat(start.out()).matches("(?s)Compose ([0-9a-f-]{36}) added to the queue\n.*\\1 FINISHED\n");
        String uuid = start.out().substring(8, 44);
        assertThat(start.out()).contains(uuid + " RUNNING (build)");

        String status = cli(dir, "compose", "status").out();
        assertThat(status).containsPattern(uuid + " FINISHED [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\\d \\d\\d:\\d\\d:\\d\\d \\d{4} site 0\\.1\\.\\d+ tar 11\n");
        assertThat(cli(dir, "compose", "list", "finished").out()).containsPattern(uuid + " FINISHED site 0\\.1\\.\\d+ tar\n");
        // --json: one document (every request with its answer, as the Go composer-cli prints them), times in full
        String json = cli(dir, "--json", "compose", "status").out();
        JsonNode exchanges = TestServer.JSON.readTree(json);
        assertThat(exchanges.isArray()).isTrue();
        assertThat(exchanges.findValuesAsText("path")).containsExactly("/compose/queue", "/compose/finished",
                "/compose/failed");
        assertThat(json).doesNotContainPattern(": -?\\d+(\\.\\d+)?[eE]").containsPattern("\"job_created\" : \\d{10}(\\.\\d+)?[,\\s]");
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "times.toml")))
                .containsPattern("created = \\d{10}\\.?\\d*\n").doesNotContain("E9");
        assertThat(cli(dir, "compose", "list", "waiting").out()).doesNotContain(uuid);
        CliRun info = cli(dir, "compose", "info", uuid);
        assertThat(info.out()).startsWith(uuid + " FINISHED site ").contains("Packages:\n    web-1.0.amd64\n",
                "Dependencies:\n", "    httpd-a-2.4.62-1.amd64\n");
        assertThat(cli(dir, "compose", "log", uuid).out()).contains("finalize done");
        assertThat(cli(dir, "compose", "types").out()).isEqualTo(String.join("\n", OutputType.ids()) + "\n");

        assertThat(cli(dir, "compose", "image", uuid).out()).isEqualTo(uuid + "-root.tar.xz\n");
        assertThat(Files.readString(dir.resolve(uuid + "-root.tar.xz"))).isEqualTo("TEST IMAGE\n");
        CliRun again = cli(dir, "compose", "image", uuid);
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("already exists");
        for (String kind : List.of("metadata", "logs", "results")) {
            assertThat(cli(dir, "compose", kind, uuid).exit()).isZero();
        }
        assertThat(dir.resolve(uuid + "-metadata.tar")).exists();
        assertThat(dir.resolve(uuid + "-logs.tar")).exists();
        assertThat(dir.resolve(uuid + ".tar")).exists();

        CliRun failing = cli(dir, "--test", "1", "compose", "start", "site", "tar", "--wait");
        assertThat(failing.exit()).isEqualTo(1);
        assertThat(cli(dir, "compose", "delete", uuid).exit()).isZero();
        CliRun gone = cli(dir, "compose", "info", uuid);
        assertThat(gone.exit()).isEqualTo(1);
        assertThat(gone.err()).contains("UnknownUUID");
        CliRun bad = cli(dir, "compose", "start", "site", "floppy");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("BadComposeType");
    }
}
