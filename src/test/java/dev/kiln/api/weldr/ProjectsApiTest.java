package dev.kiln.api.weldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.KilnProperties;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.source.Source;
import dev.kiln.source.SourceStore;
import dev.kiln.testing.CliRun;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sources, projects, modules, depsolve and freeze through the real server, over a real signed repository of real
 * {@code .deb} files that the test builds and serves, configured as the host's apt source.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + ProjectsApiTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + ProjectsApiTest.ROOT + "/apt"})
class ProjectsApiTest {

    static final String ROOT = "target/it/projects-api";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final DebRepository REPO;
    /** The id Kiln gives the host's source: the repository's last path element, else its host. */
    static final String ID = "127.0.0.1";
    static final String PTR = "127.0.0.1";

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
        try {
            Path root = Files.createDirectories(Path.of(ROOT).toAbsolutePath());
            REPO = new DebRepository(root)
                    .add("base-files", "13", "Essential: yes")
                    .add("libc", "2.36-9", "Priority: required")
                    .add("web", "1.0", "Depends: httpd-a | httpd-b")
                    .add("httpd-a", "2.4.62-1", "Depends: libc (>= 2.30)")
                    .add("httpd-b", "1.0")
                    .add("mailer", "1.0", "Depends: mail-transport-agent")
                    .add("postfix", "3.7", "Provides: mail-transport-agent")
                    .add("app-new", "1.0", "Depends: libapi (>= 2)")
                    .add("libapi-one", "1.0", "Provides: libapi (= 1.0)")
                    .add("libapi-two", "2.0", "Provides: libapi (= 2.0)")
                    .add("server", "1.0", "Depends: db-a | db-b")
                    .add("db-a", "1.0")
                    .add("db-b", "1.0")
                    .add("tool-x", "1.0", "Conflicts: db-a")
                    .add("other", "1.0", "Depends: lib-old | lib-new")
                    .add("lib-old", "1.0")
                    .add("lib-new", "2.0")
                    .add("breaker", "1.0", "Breaks: lib-old (<< 2)")
                    .add("pre", "1.0", "Pre-Depends: base-tool (>= 1)")
                    .add("base-tool", "1.5", "Multi-Arch: foreign")
                    .add("broken", "1.0", "Depends: missing-thing (>= 5)")
                    .add("epochal", "1:2.0-3")
                    .publish().serve();
            Files.createDirectories(root.resolve("apt/sources.list.d"));
            Files.writeString(root.resolve("apt/sources.list.d/local.sources"), REPO.sourcesStanza());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    SourceStore store;
    @Autowired
    KilnProperties properties;
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> call(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = TestServer.request(port, Path.of(ROOT, "state"), path);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> r = call("GET", path, null, null);
        return JSON.readTree(r.body());
    }

    List<String> depsolve(String names) throws Exception {
        HttpResponse<String> r = call("GET", "/api/v1/projects/depsolve/" + names, null, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).path("projects").findValuesAsText("name");
    }

    static void assertError(HttpResponse<String> r, String id, String msgPart) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = JSON.readTree(r.body()).path("errors").get(0);
        assertThat(e.path("id").asText()).isEqualTo(id);
        assertThat(e.path("msg").asText()).contains(msgPart);
    }

    @Test
    void theHostsAptSourceIsASystemSourceThatCannotBeDeleted() throws Exception {
        assertThat(get("/api/v1/projects/source/list").path("sources").toString()).isEqualTo("[\"" + ID + "\"]");
        JsonNode info = get("/api/v1/projects/source/info/" + ID);
        assertThat(info.at("/sources/" + PTR + "/system").asBoolean()).isTrue();
        assertThat(info.at("/sources/" + PTR + "/type").asText()).isEqualTo("deb");
        assertThat(info.at("/sources/" + PTR + "/url").asText()).isEqualTo(REPO.url());
        assertError(call("DELETE", "/api/v1/projects/source/delete/" + ID, null, null), "SystemSource", "cannot be deleted");
        assertError(call("POST", "/api/v1/projects/source/new", "text/x-toml",
                "id = \"" + ID + "\"\nname = \"x\"\ntype = \"deb\"\nurl = \"http://127.0.0.1:1/\"\nsuites = [\"a\"]\ncomponents = [\"main\"]\n"),
                "SystemSource", "cannot be changed");
        assertThat(get("/api/v1/projects/source/info/nope").at("/errors/0/id").asText()).isEqualTo("UnknownSource");
        assertThat(call("GET", "/api/v1/projects/source/info/" + ID + "?format=toml", null, null).body())
                .contains("[\"" + ID + "\"]", "type = \"deb\"", "system = true");
        assertThat(get("/api/v0/projects/source/info/" + ID).at("/sources/" + PTR + "/name").asText()).isEqualTo(ID);
    }

    @Test
    void userSourcesAreCheckedStoredAndDeleted() throws Exception {
        String toml = "id = \"mine\"\nname = \"My copy\"\ntype = \"deb\"\nurl = \"" + REPO.url()
                + "\"\nsuites = [\"stable\"]\ncomponents = [\"main\"]\ncheck_gpg = true\ngpgkey_paths = [\"" + REPO.keyring + "\"]\n";
        assertThat(call("POST", "/api/v1/projects/source/new", "text/x-toml", toml).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/projects/source/list").path("sources").toString()).isEqualTo("[\"" + ID + "\",\"mine\"]");
        assertThat(Path.of(ROOT, "state/sources/mine.toml")).exists();
        JsonNode info = get("/api/v1/projects/source/info/mine," + ID);
        assertThat(info.at("/sources/mine/system").asBoolean()).isFalse();
        assertThat(info.at("/sources/mine/gpgkey_paths/0").asText()).isEqualTo(REPO.keyring.toString());
        // the same packages from two sources: still one candidate each
        assertThat(depsolve("web")).containsExactly("httpd-a", "libc", "web");
        assertThat(call("DELETE", "/api/v1/projects/source/delete/mine", null, null).statusCode()).isEqualTo(200);
        assertError(call("DELETE", "/api/v1/projects/source/delete/mine", null, null), "UnknownSource", "not found");

        assertError(call("POST", "/api/v1/projects/source/new", "text/x-toml", "name = \"x\"\ntype = \"deb\"\n"),
                "UnknownSource", "'id' field is missing");
        assertError(call("POST", "/api/v1/projects/source/new", "text/x-toml", "id = \"x"), "ProjectsError", "TOML");
        assertError(call("POST", "/api/v1/projects/source/new", "application/json",
                "{\"id\": \"bad-key\", \"type\": \"deb\", \"url\": \"" + REPO.url()
                        + "\", \"suites\": [\"stable\"], \"components\": [\"main\"], \"gpgkey_paths\": [\"/dev/null\"]}"),
                "ProjectsError", "unknown key");
        assertError(call("POST", "/api/v1/projects/source/new", "application/json",
                "{\"id\": \"../x\", \"type\": \"deb\", \"url\": \"http://h/\"}"), "ProjectsError", "Invalid characters");
        assertError(call("POST", "/api/v1/projects/source/new", "application/json",
                "{\"id\": \"fedora\", \"name\": \"Fedora\", \"type\": \"yum-baseurl\", \"url\": \"https://example.org/repo/\"}"),
                "ProjectsError", "source type 'yum-baseurl' is not supported");
        assertError(call("POST", "/api/v1/projects/source/new", "text/x-toml", "id = \"open\"\ntype = \"deb\"\nurl = \""
                + REPO.url() + "\"\nsuites = [\"stable\"]\ncomponents = [\"main\"]\ncheck_gpg = false\n"),
                "ProjectsError", "check_gpg = false is not allowed");
        for (String url : List.of("file:///srv/repo", "http:///x", "http://h:99999/", "http://[::1/", "http://[zz]/",
                "ftp://h/", "http://u:p@h/", "http://h/a b", "http://h/\\u0000")) {
            assertError(call("POST", "/api/v1/projects/source/new", "application/json", "{\"id\": \"u\", \"type\": \"deb\", "
                    + "\"url\": " + JSON.writeValueAsString(url) + ", \"suites\": [\"s\"], \"components\": [\"main\"]}"),
                    "ProjectsError", "'url'");
        }
        for (String key : List.of("../etc/shadow", "/etc/../etc/shadow", "rel/k.gpg", "/a\\nb")) {
            assertError(call("POST", "/api/v1/projects/source/new", "application/json", "{\"id\": \"k\", \"type\": \"deb\", "
                    + "\"url\": \"http://h/\", \"suites\": [\"s\"], \"components\": [\"main\"], \"gpgkey_paths\": ["
                    + JSON.writeValueAsString(key) + "]}"), "ProjectsError", "'gpgkey_paths'");
        }
        // a yum source stored by an earlier version is listed and deletable, and never breaks depsolving
        store.save(new Source("fedora", "Fedora", "yum-metalink", "https://example.org/metalink", List.of(), List.of(),
                List.of(), true, true, List.of(), List.of(), null, false, List.of()));
        assertThat(new SourceStore(properties, Path.of(ROOT, "apt")).get("fedora")).map(Source::type)
                .contains("yum-metalink"); // read back from its file
        assertThat(get("/api/v1/projects/source/list").path("sources").toString()).contains("fedora");
        assertThat(depsolve("web")).containsExactly("httpd-a", "libc", "web");
        assertThat(call("DELETE", "/api/v1/projects/source/delete/fedora", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void debianRelationsResolveAsAptWould() throws Exception {
        assertThat(depsolve("web")).containsExactly("httpd-a", "libc", "web");
        assertThat(depsolve("httpd-b,web")).containsExactly("httpd-b", "web");
        assertThat(depsolve("mailer")).containsExactly("mailer", "postfix");
        assertThat(depsolve("app-new")).containsExactly("app-new", "libapi-two");
        assertThat(depsolve("tool-x,server")).containsExactly("db-b", "server", "tool-x");
        assertThat(depsolve("breaker,other")).containsExactly("breaker", "lib-new", "other");
        assertThat(depsolve("pre")).containsExactly("base-tool", "pre");
        assertError(call("GET", "/api/v1/projects/depsolve/broken", null, null), "ProjectsError",
                "broken 1.0 (amd64) depends on missing-thing (>= 5)");
        assertError(call("GET", "/api/v1/projects/depsolve/nosuch", null, null), "ProjectsError", "No package named nosuch");
    }

    @Test
    void projectsAndModules() throws Exception {
        JsonNode list = get("/api/v1/projects/list?limit=0");
        assertThat(list.path("total").asInt()).isEqualTo(22);
        assertThat(list.path("projects").size()).isZero();
        JsonNode page = get("/api/v1/projects/list?offset=2&limit=3");
        assertThat(page.path("projects").findValuesAsText("name")).containsExactly("base-tool", "breaker", "broken");
        JsonNode info = get("/api/v1/projects/info/epochal,httpd-*,nosuch");
        assertThat(info.path("projects").findValuesAsText("name")).containsExactly("epochal", "httpd-a", "httpd-b");
        JsonNode build = info.at("/projects/0/builds/0");
        assertThat(build.path("epoch").isNumber()).isTrue();
        assertThat(build.path("epoch").asInt()).isEqualTo(1);
        assertThat(build.path("release").asText()).isEqualTo("3");
        assertThat(build.at("/source/version").asText()).isEqualTo("2.0");
        assertThat(info.at("/projects/0/description").asText()).isEqualTo("Built by the Kiln tests.");
        assertError(call("GET", "/api/v1/projects/info/nosuch", null, null), "UnknownProject", "nosuch");
        assertThat(get("/api/v1/modules/list/db-*").path("modules").toString())
                .isEqualTo("[{\"name\":\"db-a\",\"group_type\":\"rpm\"},{\"name\":\"db-b\",\"group_type\":\"rpm\"}]");
        assertError(call("GET", "/api/v1/modules/list/zzz*", null, null), "UnknownModule", "zzz");
        JsonNode module = get("/api/v1/modules/info/web");
        assertThat(module.at("/modules/0/dependencies").findValuesAsText("name")).containsExactly("httpd-a", "libc", "web");
    }

    @Test
    void blueprintDepsolveAndFreeze() throws Exception {
        String bp = "name = \"site\"\ndescription = \"a site\"\nversion = \"0.1.0\"\n"
                + "[[packages]]\nname = \"web\"\nversion = \"*\"\n[[modules]]\nname = \"httpd-a\"\nversion = \"2.4.*\"\n"
                + "[[packages]]\nname = \"epochal\"\nversion = \"2.*\"\n";
        assertThat(call("POST", "/api/v1/blueprints/new", "text/x-toml", bp).statusCode()).isEqualTo(200);
        JsonNode deps = get("/api/v1/blueprints/depsolve/site,ghost");
        assertThat(deps.at("/blueprints/0/blueprint/name").asText()).isEqualTo("site");
        JsonNode list = deps.at("/blueprints/0/dependencies");
        assertThat(list.findValuesAsText("name")).containsExactly("base-files", "epochal", "httpd-a", "libc", "web");
        JsonNode epochal = list.get(1);
        assertThat(epochal.path("epoch").asInt()).isEqualTo(1);
        assertThat(epochal.path("remote_location").asText()).startsWith(REPO.url()).endsWith(".deb");
        assertThat(epochal.path("checksum").asText()).matches("sha256:[0-9a-f]{64}");
        assertThat(deps.at("/errors/0").toString()).isEqualTo("{\"id\":\"UnknownBlueprint\",\"msg\":\"ghost: blueprint not found\"}");

        JsonNode frozen = get("/api/v1/blueprints/freeze/site");
        assertThat(frozen.at("/blueprints/0/blueprint/packages").toString())
                .isEqualTo("[{\"name\":\"epochal\",\"version\":\"1:2.0-3.amd64\"},{\"name\":\"web\",\"version\":\"1.0.amd64\"}]");
        String frozenToml = call("GET", "/api/v1/blueprints/freeze/site?format=toml", null, null).body();
        assertThat(BlueprintParser.parseToml(frozenToml).modules()).containsExactly(Map.of("name", "httpd-a", "version", "2.4.62-1.amd64"));
        // a frozen blueprint resolves to the very same versions
        assertThat(call("POST", "/api/v1/blueprints/new", "text/x-toml", frozenToml.replace("name = \"site\"", "name = \"site-frozen\""))
                .statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/blueprints/depsolve/site-frozen").at("/blueprints/0/dependencies").findValuesAsText("name"))
                .isEqualTo(list.findValuesAsText("name"));

        assertThat(call("POST", "/api/v1/blueprints/new", "text/x-toml",
                "name = \"bad\"\n[[packages]]\nname = \"broken\"\n").statusCode()).isEqualTo(200);
        JsonNode bad = get("/api/v1/blueprints/depsolve/bad");
        assertThat(bad.at("/errors/0/id").asText()).isEqualTo("BlueprintsError");
        assertThat(bad.at("/errors/0/msg").asText()).startsWith("bad: ").contains("missing-thing (>= 5)");
        assertThat(get("/api/v1/blueprints/freeze/bad").at("/errors/0/id").asText()).isEqualTo("BlueprintsError");
    }


    CliRun cli(String... args) {
        return CliRun.of(Path.of(ROOT).toAbsolutePath(), CliRun.tcp(port, Path.of(ROOT, "state")), args);
    }

    @Test
    void theCliCommandsOfThisIssue() throws Exception {
        assertThat(cli("sources", "list").out()).isEqualTo(ID + "\n");
        assertThat(cli("sources", "info", ID).out()).contains("type = \"deb\"", "system = true");
        Files.writeString(Path.of(ROOT, "cli-source.toml"), "id = \"cli-src\"\nname = \"CLI\"\ntype = \"deb\"\nurl = \""
                + REPO.url() + "\"\nsuites = [\"stable\"]\ncomponents = [\"main\"]\ngpgkey_paths = [\"" + REPO.keyring + "\"]\n");
        assertThat(cli("sources", "add", "cli-source.toml").exit()).isZero();
        assertThat(cli("sources", "list").out()).contains("cli-src");
        assertThat(cli("sources", "delete", "cli-src").exit()).isZero();
        CliRun system = cli("sources", "delete", ID);
        assertThat(system.exit()).isEqualTo(1);
        assertThat(system.err()).contains("SystemSource");

        assertThat(cli("modules", "list", "db-*").out()).isEqualTo("db-a\ndb-b\n");
        assertThat(cli("modules", "list").out().lines().count()).isEqualTo(22);
        String projects = cli("projects", "list").out();
        assertThat(projects).contains("Name: web\nSummary: test package web\n");
        assertThat(cli("projects", "info", "epochal").out()).contains("Builds: \n    1:2.0-3.amd64 at  for CHANGELOG_NEEDED");

        assertThat(call("POST", "/api/v1/blueprints/new", "text/x-toml",
                "name = \"cli-bp\"\n[[packages]]\nname = \"web\"\nversion = \"1.*\"\n").statusCode()).isEqualTo(200);
        assertThat(cli("blueprints", "depsolve", "cli-bp").out()).isEqualTo("blueprint: cli-bp v0.0.1\n"
                + "    base-files-13-0.amd64\n    httpd-a-2.4.62-1.amd64\n    libc-2.36-9.amd64\n    web-1.0-0.amd64\n");
        assertThat(cli("blueprints", "freeze", "cli-bp").out()).isEqualTo("blueprint: cli-bp v0.0.1\n    web-1.0.amd64\n");
        assertThat(cli("blueprints", "freeze", "show", "cli-bp").out()).contains("version = \"1.0.amd64\"");
        assertThat(cli("blueprints", "freeze", "save", "cli-bp").exit()).isZero();
        assertThat(Files.readString(Path.of(ROOT, "cli-bp.frozen.toml"))).contains("version = \"1.0.amd64\"");
        CliRun ghost = cli("blueprints", "depsolve", "ghost");
        assertThat(ghost.exit()).isEqualTo(1);
        assertThat(ghost.err()).contains("UnknownBlueprint: ghost: blueprint not found");
    }
}
