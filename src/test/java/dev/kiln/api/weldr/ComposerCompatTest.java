package dev.kiln.api.weldr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.cli.WeldrClient;
import dev.kiln.source.Distros;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.SocketApi;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.util.FileSystemUtils;

/**
 * What clients written for lorax-composer and osbuild-composer (the Go composer-cli's own test suite among them)
 * send and expect, through the real unix socket: osbuild-composer's type names at compose start, shown back as
 * asked while {@code compose types} keeps the seed's list; the reference servers' answers for an unknown blueprint's
 * info and undo; and test-mode composes that never wait for the build slot.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + ComposerCompatTest.ROOT + "/state",
        "kiln.api.socket=" + ComposerCompatTest.ROOT + "/run/api.socket",
        "kiln.sources.apt-dir=" + ComposerCompatTest.ROOT + "/apt", "kiln.compose.build-concurrency=1"})
class ComposerCompatTest {

    static final String ROOT = "target/it/composer-compat";
    static final DebRepository REPO = repository();

    /** The small repository and, as empty packages, what the bootable types add (test composes install nothing). */
    static DebRepository repository() {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
        try {
            Path root = Files.createDirectories(Path.of(ROOT).toAbsolutePath());
            DebRepository repo = new DebRepository(root).add("base-files", "13", "Essential: yes")
                    .add("libc", "2.36-9", "Priority: required").add("hello", "2.10-3", "Depends: libc (>= 2.30)")
                    .add("linux-image-amd64", "6.1.0-1").add("systemd-sysv", "252-1").add("cloud-init", "22.4-1")
                    .add("open-vm-tools", "12.2-1").publish().serve();
            TestServer.aptDir(root, repo);
            return repo;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
    static final JsonMapper JSON = JsonMapper.builder().build();

    @AfterAll
    static void stop() {
        REPO.close();
    }

    final SocketApi api = new SocketApi(Path.of(ROOT, "run/api.socket"));
    final WeldrClient socket = api.client;

    JsonNode get(String path) throws Exception {
        return api.get(path);
    }

    JsonNode send(String method, String path, String body) throws Exception {
        return api.send(method, path, body);
    }

    void push() throws Exception {
        assertThat(socket.post("/api/v1/blueprints/new", "text/x-toml", TestServer.SITE.getBytes()).status())
                .isEqualTo(200);
    }

    String start(String type, int test) throws Exception {
        JsonNode r = send("POST", "/api/v1/compose" + (test != 0 ? "?test=" + test : ""),
                "{\"blueprint_name\": \"site\", \"compose_type\": \"" + type + "\", \"branch\": \"master\"}");
        assertThat(r.path("status").asBoolean()).as(r.toString()).isTrue();
        return r.path("build_id").asText();
    }

    String await(String uuid, long ms) throws Exception {
        long deadline = System.currentTimeMillis() + ms;
        String s = "";
        while (System.currentTimeMillis() < deadline) {
            s = get("/api/v1/compose/status/" + uuid).at("/uuids/0/queue_status").asText();
            if (s.equals("FINISHED") || s.equals("FAILED")) {
                return s;
            }
            Thread.sleep(50);
        }
        return s;
    }

    @Test
    void osbuildComposersTypeNamesStartTheSeedsTypesAndAreShownAsAsked() throws Exception {
        push();
        // the Go client's integration suite starts its set-up composes as server-qcow2
        String uuid = start("server-qcow2", 2);
        assertThat(await(uuid, 60_000)).isEqualTo("FINISHED");
        assertThat(get("/api/v1/compose/status/" + uuid).at("/uuids/0/compose_type").asText()).isEqualTo("server-qcow2");
        assertThat(get("/api/v1/compose/info/" + uuid).path("compose_type").asText()).isEqualTo("server-qcow2");
        assertThat(get("/api/v1/compose/finished").toString()).contains("\"compose_type\":\"server-qcow2\"");
        // its image is the seed type's, qcow2's
        assertThat(socket.get("/api/v1/compose/image/" + uuid).header("Content-Disposition")).endsWith("disk.qcow2");
        // compose types keeps listing exactly the seed's eleven (lorax's sanity test compares the list)
        List<String> types = new ArrayList<>();
        get("/api/v1/compose/types").path("types").forEach(t -> types.add(t.path("name").asText()));
        assertThat(types).containsExactly("alibaba", "ami", "ext4-filesystem", "google", "live-iso", "openstack",
                "partitioned-disk", "qcow2", "tar", "vhd", "vmdk");
        // a name neither knows is still refused, naming the seed's types
        JsonNode bad = send("POST", "/api/v1/compose", "{\"blueprint_name\": \"site\", \"compose_type\": \"server-foo\"}");
        assertThat(bad.at("/errors/0/id").asText()).isEqualTo("BadComposeType");
        assertThat(bad.at("/errors/0/msg").asText()).contains("server-foo").contains("qcow2");
        for (String alias : List.of("server-ami", "server-vhd", "server-vmdk", "server-openstack", "minimal-raw", "gce")) {
            String id = start(alias, 2);
            assertThat(await(id, 60_000)).as(alias).isEqualTo("FINISHED");
            assertThat(get("/api/v1/compose/info/" + id).path("compose_type").asText()).isEqualTo(alias);
        }
    }

    @Test
    void unknownBlueprintsAnswerAsTheReferenceServersDo() throws Exception {
        // lorax joins an empty list after "<name>: ", osbuild-composer writes the same; weldr-client asserts it
        assertThat(get("/api/v1/blueprints/info/no-such").at("/errors/0").toString())
                .isEqualTo("{\"id\":\"UnknownBlueprint\",\"msg\":\"no-such: \"}");
        // undo of a blueprint without history: UnknownBlueprint, whatever the commit
        JsonNode undo = send("POST", "/api/v1/blueprints/undo/no-such/0123456789abcdef0123456789abcdef01234567", null);
        assertThat(undo.at("/errors/0/id").asText()).isEqualTo("UnknownBlueprint");
        push();
        JsonNode known = send("POST", "/api/v1/blueprints/undo/site/0123456789abcdef0123456789abcdef01234567", null);
        assertThat(known.at("/errors/0/id").asText()).isEqualTo("UnknownCommit");
    }

    @Test
    void tenTestComposesDoNotWaitForTheBuildSlot() throws Exception {
        push();
        // ten composes of lorax's test mode, each "build" sleeping kiln.compose.test-build-seconds (5): one slot
        // would take 50 s; the Go client waits 30 s for the last one's log
        List<String> ids = new ArrayList<>();
        long t0 = System.currentTimeMillis();
        for (int i = 0; i < 10; i++) {
            ids.add(start("tar", i % 2 == 0 ? 2 : 1));
        }
        for (int i = 0; i < ids.size(); i++) {
            assertThat(await(ids.get(i), 30_000 - (System.currentTimeMillis() - t0))).as("compose %d", i)
                    .isEqualTo(i % 2 == 0 ? "FINISHED" : "FAILED");
        }
        assertThat(socket.get("/api/v1/compose/log/" + ids.get(9)).status()).isEqualTo(200);
    }

    @Test
    void versionsWithoutADebianRevisionHaveTheReleaseZeroInTheApi() throws Exception {
        push();
        // composer-cli prints name-version-release.arch: an empty release would print "hello-2.10-.amd64"
        JsonNode deps = get("/api/v1/blueprints/depsolve/site").at("/blueprints/0/dependencies");
        List<String> nevras = new ArrayList<>();
        deps.forEach(d -> nevras.add(d.path("name").asText() + "-" + d.path("version").asText() + "-"
                + d.path("release").asText() + "." + d.path("arch").asText()));
        assertThat(nevras).containsExactly("base-files-13-0.amd64", "hello-2.10-3.amd64", "libc-2.36-9.amd64");
        assertThat(get("/api/v1/projects/depsolve/base-files").at("/projects/0/release").asText()).isEqualTo("0");
        assertThat(get("/api/v1/projects/info/base-files").at("/projects/0/builds/0/release").asText()).isEqualTo("0");
        String uuid = start("tar", 2);
        assertThat(await(uuid, 60_000)).isEqualTo("FINISHED");
        assertThat(get("/api/v1/compose/info/" + uuid).at("/deps/packages").toString())
                .contains("{\"name\":\"base-files\",\"epoch\":0,\"version\":\"13\",\"release\":\"0\"");
        // the frozen set keeps Debian's version: what is installed is base-files 13, not 13-0
        String depsToml = Files.readString(Path.of(ROOT, "state/results", uuid, "deps.toml"));
        assertThat(depsToml).contains("name = \"base-files\"").doesNotContain("release = \"0\"");
        assertThat(get("/api/v1/blueprints/freeze/site").at("/blueprints/0/blueprint/packages/0/version").asText())
                .isEqualTo("2.10-3.amd64");
    }

    @Test
    void theHostsDistributionIsListedAndAnUnknownOneIsAnErrorNamingThem() throws Exception {
        String host = Distros.host();
        assertThat(host).matches("[a-z]+-[0-9.]+");
        assertThat(get("/api/v1/distros/list").path("distros").toString()).contains("\"" + host + "\"");
        push();
        for (String route : List.of("/api/v1/projects/list", "/api/v1/projects/info/hello",
                "/api/v1/projects/depsolve/hello", "/api/v1/modules/list", "/api/v1/modules/info/hello",
                "/api/v1/blueprints/depsolve/site", "/api/v1/blueprints/freeze/site", "/api/v1/compose/types")) {
            assertThat(socket.get(route + "?distro=" + host).status()).as(route).isEqualTo(200);
            WeldrClient.Response bad = socket.get(route + "?distro=fedora-40");
            assertThat(bad.status()).as(route).isEqualTo(400);
            JsonNode error = JSON.readTree(bad.text()).at("/errors/0");
            assertThat(error.path("id").asText()).as(route).isEqualTo("DistroError");
            assertThat(error.path("msg").asText()).as(route).startsWith("Invalid distro: fedora-40").contains(host);
        }
        // hostile values are named back without their control characters, and cut short
        JsonNode hostile = JSON.readTree(socket.get("/api/v1/compose/types?distro=a%0Ab%00" + "x".repeat(500)).text());
        assertThat(hostile.at("/errors/0/msg").asText()).contains("a?b?").doesNotContain("\n").hasSizeLessThan(200);

        // a blueprint for a distribution Kiln does not build is refused when pushed; for the host's it builds
        WeldrClient.Response refused = socket.post("/api/v1/blueprints/new", "text/x-toml",
                "name = \"other\"\ndistro = \"fedora-40\"\n".getBytes());
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.text()).contains("BlueprintsError").contains("Invalid distro: fedora-40");
        assertThat(socket.post("/api/v1/blueprints/new", "text/x-toml", ("name = \"ours\"\ndistro = \"" + host
                + "\"\n[[packages]]\nname = \"hello\"\n").getBytes()).status()).isEqualTo(200);
        JsonNode started = send("POST", "/api/v1/compose?test=2",
                "{\"blueprint_name\": \"ours\", \"compose_type\": \"tar\", \"branch\": \"master\"}");
        assertThat(await(started.path("build_id").asText(), 60_000)).isEqualTo("FINISHED");

        // a source for distributions Kiln does not build is refused, as osbuild-composer refuses it
        JsonNode source = send("POST", "/api/v1/projects/source/new", "{\"id\": \"x\", \"type\": \"deb\", "
                + "\"url\": \"http://h/\", \"suites\": [\"s\"], \"components\": [\"main\"], \"distros\": [\"fedora-40\"]}");
        assertThat(source.at("/errors/0/id").asText()).isEqualTo("ProjectsError");
        assertThat(source.at("/errors/0/msg").asText()).contains("Invalid distributions: fedora-40");
    }
}
