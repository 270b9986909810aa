package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.KilnProcess;
import dev.kiln.testing.LocalPostgres;
import dev.kiln.testing.MirrorProxy;
import dev.kiln.testing.NetNamespace;
import dev.kiln.testing.TestServer;
import dev.kiln.testing.WorkerProcess;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.util.FileSystemUtils;

/**
 * Past one machine, as an operator would run it: a PostgreSQL server, two nodes (separate JVMs) sharing it and one
 * state directory, started at the same moment on the empty database, and one remote worker ({@code kiln worker})
 * in a network namespace of its own with a state directory of its own, reaching the nodes only over HTTP. Node a
 * builds in-process too; node b has no build slot ({@code kiln.compose.build-concurrency=0}). Real composes (tar:
 * the Debian base through a local mirror of the host's repositories, a package from a local signed repository,
 * both on the namespace's link) submitted to both nodes finish with byte-identical images whoever built them;
 * kill -9 of a node, and of the worker, during a build loses no compose and doubles none.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {

    static final Path ROOT = Path.of("target/it/cluster").toAbsolutePath();
    static final Path SHARED = ROOT.resolve("shared");
    static final String IMAGE = OutputType.TAR.imageName();
    static final int LOCK_SECONDS = 6;
    /** The tar's compression, the same on every builder (the bytes depend on it); the fastest, to keep CI short. */
    static final int XZ_LEVEL = 0;

    static LocalPostgres pg;
    static NetNamespace net;
    static DebRepository repo;
    static MirrorProxy mirror;
    static Path apt;
    static KilnProcess a;
    static KilnProcess b;
    static WorkerProcess worker;
    static int workerStarts;
    /** The SHA-256 every image of the blueprint has, from the first one built in-process by a node. */
    static String expected;

    @BeforeAll
    static void up() throws Exception {
        FileSystemUtils.deleteRecursively(ROOT);
        Files.createDirectories(ROOT);
        pg = LocalPostgres.start(Files.createTempDirectory("kiln-cluster-pg-"), "kiln");
        net = NetNamespace.create();
        repo = TestServer.smallRepository(ROOT.resolve("repo"), net.hostAddress);
        mirror = new MirrorProxy(net.hostAddress);
        apt = mirror.aptDir(ROOT, repo); // the Debian base through a local mirror, the worker's only way out
        a = node("a", 1);
        b = node("b", 0);
        // both at once on the empty database: the start-up lock lets one make the schema, the other waits
        CompletableFuture<Long> startA = CompletableFuture.supplyAsync(() -> start(a));
        CompletableFuture<Long> startB = CompletableFuture.supplyAsync(() -> start(b));
        System.out.printf("cluster: nodes up in %d and %d ms (%s PostgreSQL)%n", startA.join(), startB.join(), pg.kind());
        startWorker();
        a.client().push(TestServer.SITE);
    }

    @AfterAll
    static void down() throws Exception {
        stopWorker(false);
        for (KilnProcess n : new KilnProcess[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
        if (pg != null) {
            pg.close();
        }
        if (repo != null) {
            repo.close();
        }
        if (mirror != null) {
            mirror.close();
        }
        if (net != null) {
            net.close();
        }
    }

    static KilnProcess node(String name, int buildSlots) throws IOException {
        Path root = Files.createDirectories(ROOT.resolve(name));
        return new KilnProcess(root, "kiln.state-dir=" + SHARED, "kiln.node-dir=" + root.resolve("node"),
                "kiln.api.address=" + net.hostAddress, "kiln.api.socket=", "kiln.api.tcp-weldr=true",
                "kiln.engine.database-url=" + pg.url("kiln"), "kiln.engine.database-user=" + LocalPostgres.USER,
                "kiln.engine.database-password=" + pg.password(), "kiln.sources.apt-dir=" + apt,
                "kiln.compose.lock-seconds=" + LOCK_SECONDS, "kiln.compose.build-concurrency=" + buildSlots,
                "kiln.image.xz-level=" + XZ_LEVEL);
    }

    static long start(KilnProcess node) {
        try {
            return node.start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static void startWorker() throws IOException, InterruptedException {
        workerStarts++;
        worker = WorkerProcess.start(ROOT.resolve("worker"), "remote-" + workerStarts, a.url() + "," + b.url(),
                SHARED.resolve("api-token"), net::exec, "--lock-seconds", String.valueOf(LOCK_SECONDS),
                "--poll-seconds", "2", "--kiln.image.xz-level=" + XZ_LEVEL);
    }

    static void stopWorker(boolean kill) throws InterruptedException {
        if (worker != null) {
            if (kill) {
                worker.kill();
            } else {
                worker.close();
            }
        }
    }

    /** Submits {@code n} tar composes of the blueprint, alternately to node a and node b. */
    static List<String> submit(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add((i % 2 == 0 ? a : b).client().start("site", "tar", 0));
        }
        return ids;
    }

    /** The build tasks locked now and who holds them (as /engine-rest says, asked with the worker's token). */
    static Map<String, String> buildLocks(KilnProcess via) {
        Map<String, String> locks = new TreeMap<>();
        for (JsonNode t : via.client().get("/engine-rest/external-task?topicName=build&locked=true")) {
            locks.put(t.path("businessKey").asText(), t.path("workerId").asText());
        }
        return locks;
    }

    /**
     * Waits until a build runs (its lock held and its start in the compose's log) by a worker whose id starts with
     * {@code holder}; answers its compose.
     */
    static String awaitBuildBy(KilnProcess via, String holder) throws InterruptedException, IOException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            for (Map.Entry<String, String> e : buildLocks(via).entrySet()) {
                if (e.getValue().startsWith(holder) && log(e.getKey()).contains("build started by " + holder)) {
                    return e.getKey();
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no build held as wanted; locks now " + buildLocks(via));
    }

    static String sha256(Path file) throws IOException {
        return DebRepository.sha256(file);
    }

    /**
     * Each compose FINISHED on both nodes' listings, exactly once: one image with the expected bytes, one
     * "compose finished" line, no scratch directory or partial upload left.
     */
    static void assertFinishedOnce(List<String> ids) throws Exception {
        for (String id : ids) {
            assertThat(a.client().await(id, 300_000, "FINISHED", "FAILED")).as("compose %s: %s", id, log(id))
                    .isEqualTo("FINISHED");
            assertThat(b.client().status(id)).isEqualTo("FINISHED");
            Path dir = SHARED.resolve("results").resolve(id);
            assertThat(sha256(dir.resolve(IMAGE))).as("image of %s", id).isEqualTo(expected);
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(f -> f.getFileName().toString()))
                        .noneMatch(f -> f.equals("compose") || f.startsWith(".upload-") || f.endsWith(".tmp"));
            }
            assertThat(log(id).lines().filter(l -> l.contains("compose finished: " + IMAGE))).as(log(id)).hasSize(1);
        }
    }

    static String log(String id) throws IOException {
        Path log = SHARED.resolve("results").resolve(id).resolve("logs/combined.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
    }

    static Set<String> ids(JsonNode listing, String field) {
        Set<String> ids = new TreeSet<>();
        listing.path(field).forEach(c -> ids.add(c.path("id").asText()));
        return ids;
    }

    /** Both nodes list the same composes, and no external task is locked any more. */
    static void assertNodesAgree() throws InterruptedException {
        for (String route : List.of("finished", "failed", "queue")) {
            String field = route.equals("queue") ? "run" : route;
            assertThat(ids(a.client().get("/api/v1/compose/" + route), field))
                    .isEqualTo(ids(b.client().get("/api/v1/compose/" + route), field));
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (!a.client().get("/engine-rest/external-task?locked=true").isEmpty()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(a.client().get("/engine-rest/external-task?locked=true")).isEmpty();
    }

    @Test
    @Order(1)
    void tenComposesSubmittedToBothNodesFinishWithTheSameImageWhoeverBuiltThem() throws Exception {
        List<String> ids = submit(10);
        for (String id : ids) {
            assertThat(a.client().await(id, 300_000, "FINISHED", "FAILED")).as("compose %s: %s", id, log(id))
                    .isEqualTo("FINISHED");
        }
        Map<String, String> builtBy = new TreeMap<>();
        for (String id : ids) {
            builtBy.put(id, log(id).lines().filter(l -> l.contains("build started by")).findFirst().orElse("?")
                    .replaceAll(".*build started by ", ""));
            if (expected == null && !builtBy.get(id).startsWith("remote-")) {
                expected = sha256(SHARED.resolve("results").resolve(id).resolve(IMAGE));
            }
        }
        System.out.println("cluster: built by " + builtBy);
        assertThat(builtBy.values()).anyMatch(w -> w.startsWith("remote-")).anyMatch(w -> w.startsWith("kiln-"));
        assertThat(expected).isNotNull();
        assertFinishedOnce(ids);
        String remote = ids.stream().filter(id -> builtBy.get(id).startsWith("remote-")).findFirst().orElseThrow();
        assertThat(log(remote)).contains("[remote-1-build-1]").contains("image " + IMAGE + " received from remote-1");
        // the SBOM written from the tree on the worker came back with the image
        assertThat(SHARED.resolve("results").resolve(remote).resolve(ResultsDir.SBOM)).content()
                .contains("\"spdxVersion\" : \"SPDX-2.3\"").contains("\"name\" : \"base-files\"");
        assertNodesAgree();
    }

    @Test
    @Order(2)
    void aNodeKilledDuringABuildLosesNoCompose() throws Exception {
        List<String> ids = submit(3);
        long pidA = a.pid();
        String victim = awaitBuildBy(b, "kiln-" + pidA + "@");
        a.kill();
        System.out.println("cluster: node a killed during the build of " + victim);
        for (String id : ids) { // node b lists them; the worker takes a's build once its lock lapses
            assertThat(b.client().await(id, 300_000, "FINISHED", "FAILED")).as("compose %s: %s", id, log(id))
                    .isEqualTo("FINISHED");
        }
        start(a);
        assertFinishedOnce(ids);
        assertThat(log(victim)).contains("build started by kiln-" + pidA + "@").contains("build started by remote-");
        assertNodesAgree();
    }

    @Test
    @Order(3)
    void theWorkerKilledDuringABuildLosesNoCompose() throws Exception {
        List<String> ids = submit(3);
        String victim = awaitBuildBy(a, "remote-");
        stopWorker(true);
        System.out.println("cluster: worker killed during the build of " + victim);
        for (String id : ids) { // node a's own slot takes the worker's build once its lock lapses
            assertThat(a.client().await(id, 300_000, "FINISHED", "FAILED")).as("compose %s: %s", id, log(id))
                    .isEqualTo("FINISHED");
        }
        assertFinishedOnce(ids);
        assertThat(log(victim)).contains("build started by remote-").contains("build started by kiln-");
        assertNodesAgree();
        startWorker();
    }

    @Test
    @Order(4)
    void aComposeSubmittedToOneNodeIsDownloadedCancelledAndDeletedThroughTheOther() throws Exception {
        String done = a.client().start("site", "tar", 0);
        assertThat(b.client().await(done, 300_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        HttpResponse<byte[]> image = HttpClient.newHttpClient().send(TestServer.request(b.url(), SHARED,
                "/api/v1/compose/image/" + done).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(image.statusCode()).isEqualTo(200);
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image.body()))).isEqualTo(expected);
        assertThat(b.client().get("/api/v1/compose/info/" + done).path("queue_status").asText()).isEqualTo("FINISHED");

        // a compose waiting behind a long one (node a's only slot busy, the worker stopped) is cancelled through b
        stopWorker(false);
        String running = a.client().start("site", "tar", 0);
        String waiting = a.client().start("site", "tar", 0);
        assertThat(b.client().await(running, 120_000, "RUNNING")).isEqualTo("RUNNING");
        assertThat(b.client().json("DELETE", "/api/v1/compose/cancel/" + waiting, null, null).path("status")
                .asBoolean()).isTrue();
        assertThat(a.client().status(waiting)).isEqualTo("GONE");
        // and the running one, whose build runs on node a: its lock is gone, so a stops it and leaves nothing
        awaitBuildBy(a, "kiln-" + a.pid() + "@");
        assertThat(b.client().json("DELETE", "/api/v1/compose/cancel/" + running, null, null).path("status")
                .asBoolean()).isTrue();
        assertThat(a.client().status(running)).isEqualTo("GONE");
        Thread.sleep(LOCK_SECONDS * 1000L); // past a's next heartbeat, which finds the task gone
        assertThat(SHARED.resolve("results").resolve(running)).doesNotExist();
        assertThat(SHARED.resolve("results").resolve(waiting)).doesNotExist();
        assertThat(a.log().lines().filter(l -> l.contains(running)))
                .anyMatch(l -> l.contains("its task is gone") || l.contains("could not be ended")
                        || l.contains("no longer held"));
        startWorker();

        // deleted through b: gone from both listings, its files gone from the shared directory
        assertThat(b.client().json("DELETE", "/api/v1/compose/delete/" + done, null, null).path("uuids").get(0)
                .path("status").asBoolean()).isTrue();
        assertThat(a.client().status(done)).isEqualTo("GONE");
        assertThat(SHARED.resolve("results").resolve(done)).doesNotExist();
        assertNodesAgree();
    }
}
