package dev.kiln.api.weldr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.cli.WeldrClient;
import dev.kiln.source.Distros;
import dev.kiln.testing.CliRun;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.SocketApi;
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
 * More than one distribution through the real unix socket: the host's apt sources name the host's suites (here of a
 * local repository serving a release per suite, as a Debian mirror does), and the other Debian release Kiln builds
 * reads the same mirror with its own suites. {@code distros/list}, the {@code ?distro=} of the routes that take it
 * (osbuild-composer's list: compose types, projects, modules, projects depsolve), the blueprint's {@code distro}
 * (depsolve, freeze, compose start) and the sources' {@code distros} each pick that distribution's packages.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + DistrosApiTest.ROOT + "/state", "kiln.api.socket=" + DistrosApiTest.ROOT + "/run/api.socket",
        "kiln.sources.apt-dir=" + DistrosApiTest.ROOT + "/apt"})
class DistrosApiTest {

    static final String ROOT = "target/it/distros";
    static final JsonMapper JSON = JsonMapper.builder().build();
    /** The host's distribution and the other one Kiln builds (debian-12 and debian-13 on either). */
    static final String HOST = Distros.host();
    static final String OTHER = Distros.names().stream().filter(d -> !d.equals(HOST)).findFirst().orElseThrow();
    static final String HOST_SUITE = Distros.hostDistro().codename();
    static final String OTHER_SUITE = Distros.distro(OTHER).orElseThrow().codename();
    static final DebRepository REPO = repository();

    /**
     * One repository, three suites: the host's release (hello 2.10-3), the other release (hello 2.10-5, and
     * greeter), and an extra suite of the other release's (extra-tool) that a user source adds for it alone.
     */
    static DebRepository repository() {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
        try {
            Path root = Files.createDirectories(Path.of(ROOT).toAbsolutePath());
            DebRepository repo = new DebRepository(root);
            repo.suite(HOST_SUITE).add("base-files", "12.4", "Essential: yes").add("hello", "2.10-3").publish();
            repo.suite(OTHER_SUITE).add("base-files", "13.8", "Essential: yes").add("hello", "2.10-5")
                    .add("greeter", "1.0-1", "Depends: hello (>= 2.10-4)").publish();
            repo.suite("kiln-extra").add("extra-tool", "0.9-1").publish();
            repo.serve();
            Path apt = Files.createDirectories(root.resolve("apt/sources.list.d"));
            Files.writeString(apt.resolve("mirror.sources"), "Types: deb\nURIs: " + repo.url() + "\nSuites: "
                    + HOST_SUITE + "\nComponents: main\nSigned-By: " + repo.keyring + "\n");
            return repo;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() {
        REPO.close();
    }

    final SocketApi api = new SocketApi(Path.of(ROOT, "run/api.socket"));
    final WeldrClient socket = api.client;

    static List<String> names(JsonNode list, String field) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(field == null ? n.asText() : n.path(field).asText()));
        return out;
    }

    @Test
    void everyRouteThatTakesADistroReadsThatDistributionsSources() throws Exception {
        assertThat(names(api.get("/api/v1/distros/list").path("distros"), null)).containsExactly("debian-12", "debian-13");
        // compose types: the same eleven for each
        assertThat(api.get("/api/v1/compose/types?distro=" + OTHER)).isEqualTo(api.get("/api/v1/compose/types"));
        // projects and modules: the other release's versions and packages
        assertThat(api.get("/api/v1/projects/info/hello").at("/projects/0/builds/0/release").asText()).isEqualTo("3");
        assertThat(api.get("/api/v1/projects/info/hello?distro=" + HOST).at("/projects/0/builds/0/release").asText())
                .isEqualTo("3");
        assertThat(api.get("/api/v1/projects/info/hello?distro=" + OTHER).at("/projects/0/builds/0/release").asText())
                .isEqualTo("5");
        assertThat(names(api.get("/api/v1/projects/list").path("projects"), "name")).containsExactly("base-files", "hello");
        assertThat(names(api.get("/api/v1/projects/list?distro=" + OTHER).path("projects"), "name"))
                .containsExactly("base-files", "greeter", "hello");
        assertThat(names(api.get("/api/v1/modules/list?distro=" + OTHER).path("modules"), "name")).contains("greeter");
        assertThat(api.get("/api/v1/modules/info/greeter").at("/errors/0/id").asText()).isEqualTo("UnknownModule");
        assertThat(names(api.get("/api/v1/modules/info/greeter?distro=" + OTHER).at("/modules/0/dependencies"), "release"))
                .containsExactly("1", "5");
        assertThat(api.get("/api/v1/projects/depsolve/hello?distro=" + OTHER).at("/projects/0/release").asText())
                .isEqualTo("5");
    }

    @Test
    void theBlueprintsDistroPicksItsPackagesForDepsolveFreezeAndCompose() throws Exception {
        String toml = "name = \"for-other\"\nversion = \"0.1.0\"\ndistro = \"" + OTHER
                + "\"\n[[packages]]\nname = \"greeter\"\n";
        assertThat(socket.post("/api/v1/blueprints/new", "text/x-toml", toml.getBytes()).status()).isEqualTo(200);
        JsonNode deps = api.get("/api/v1/blueprints/depsolve/for-other");
        assertThat(deps.path("errors")).as(deps.toString()).isEmpty();
        assertThat(names(deps.at("/blueprints/0/dependencies"), "name")).containsExactly("base-files", "greeter", "hello");
        assertThat(names(deps.at("/blueprints/0/dependencies"), "version")).containsExactly("13.8", "1.0", "2.10");
        // the blueprint's own distro wins over the request's
        assertThat(api.get("/api/v1/blueprints/freeze/for-other?distro=" + HOST).at("/blueprints/0/blueprint/packages/0/version")
                .asText()).isEqualTo("1.0-1.amd64");
        // a blueprint naming none: the host's, or the request's ?distro=
        assertThat(socket.post("/api/v1/blueprints/new", "text/x-toml",
                "name = \"plain\"\n[[packages]]\nname = \"hello\"\n".getBytes()).status()).isEqualTo(200);
        assertThat(api.get("/api/v1/blueprints/freeze/plain").at("/blueprints/0/blueprint/packages/0/version").asText())
                .isEqualTo("2.10-3.amd64");
        assertThat(api.get("/api/v1/blueprints/freeze/plain?distro=" + OTHER).at("/blueprints/0/blueprint/packages/0/version")
                .asText()).isEqualTo("2.10-5.amd64");
        // compose start takes the blueprint's distro: its frozen set, and a config.toml of that release
        JsonNode started = api.send("POST", "/api/v1/compose?test=2",
                "{\"blueprint_name\": \"for-other\", \"compose_type\": \"tar\", \"branch\": \"master\"}");
        String uuid = started.path("build_id").asText();
        assertThat(uuid).as(started.toString()).isNotEmpty();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline
                && !api.get("/api/v1/compose/status/" + uuid).at("/uuids/0/queue_status").asText().equals("FINISHED")) {
            Thread.sleep(50);
        }
        assertThat(api.get("/api/v1/compose/info/" + uuid).at("/deps/packages").toString())
                .contains("{\"name\":\"hello\",\"epoch\":0,\"version\":\"2.10\",\"release\":\"5\"");
        Path results = Path.of(ROOT, "state/results", uuid);
        assertThat(Files.readString(results.resolve("config.toml")))
                .contains("releasever = \"" + OTHER.substring("debian-".length()) + "\"")
                .contains("title = \"Debian GNU/Linux " + OTHER.substring("debian-".length()) + " (" + OTHER_SUITE + ")\"");
        assertThat(Files.readString(results.resolve("final-kickstart.ks"))).contains(OTHER_SUITE)
                .doesNotContain(" " + HOST_SUITE);
    }

    @Test
    void aSourceForOneDistributionServesOnlyThatOne() throws Exception {
        JsonNode added = api.send("POST", "/api/v1/projects/source/new", "{\"id\": \"extra\", "
                + "\"name\": \"Extra\", \"type\": \"deb\", \"url\": \"" + REPO.url() + "\", \"suites\": [\"kiln-extra\"], "
                + "\"components\": [\"main\"], \"gpgkey_paths\": [\"" + REPO.keyring + "\"], \"distros\": [\"" + OTHER + "\"]}");
        assertThat(added.path("status").asBoolean()).as(added.toString()).isTrue();
        assertThat(api.get("/api/v1/projects/source/info/extra").at("/sources/extra/distros").toString())
                .isEqualTo("[\"" + OTHER + "\"]");
        assertThat(api.get("/api/v1/projects/info/extra-tool?distro=" + OTHER).at("/projects/0/name").asText())
                .isEqualTo("extra-tool");
        assertThat(api.get("/api/v1/projects/info/extra-tool").at("/errors/0/id").asText()).isEqualTo("UnknownProject");
        assertThat(socket.delete("/api/v1/projects/source/delete/extra").status()).isEqualTo(200);
        assertThat(api.get("/api/v1/projects/info/extra-tool?distro=" + OTHER).at("/errors/0/id").asText())
                .isEqualTo("UnknownProject");
    }


    CliRun cli(String... args) {
        return CliRun.of(Path.of(ROOT).toAbsolutePath(),
                List.of("-s", Path.of(ROOT, "run/api.socket").toAbsolutePath().toString()), args);
    }

    @Test
    void theCliTakesTheGoClientsDistroFlag() {
        assertThat(cli("distros", "list").out()).isEqualTo("debian-12\ndebian-13\n");
        CliRun types = cli("compose", "types", "--distro", OTHER);
        assertThat(types.exit()).isZero();
        assertThat(types.out()).isEqualTo(cli("compose", "types").out()).contains("qcow2\n");
        assertThat(cli("projects", "info", "--distro", OTHER, "hello").out()).contains("2.10-5.amd64");
        assertThat(cli("projects", "info", "hello").out()).contains("2.10-3.amd64");
        assertThat(cli("projects", "list", "--distro", OTHER).out()).contains("Name: greeter");
        assertThat(cli("modules", "list", "--distro", OTHER).out()).isEqualTo("base-files\ngreeter\nhello\n");
        CliRun bad = cli("compose", "types", "--distro", "fedora-40");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("Invalid distro: fedora-40");
    }
}
