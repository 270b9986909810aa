package dev.kiln.api.weldr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.cli.WeldrClient;
import dev.kiln.pipeline.ComposeProcess;
import dev.kiln.source.Distros;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.operaton.bpm.engine.RepositoryService;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/** The Weldr API of a real server (embedded engine, Tomcat) over real HTTP: loopback TCP and the unix socket. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + WeldrApiTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=" + WeldrApiTest.ROOT + "/run/api.socket",
        "kiln.sources.apt-dir=" + WeldrApiTest.ROOT + "/no-apt"})
class WeldrApiTest {

    static final String ROOT = "target/it/weldr-api";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String TOML = "text/x-toml";

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    @LocalServerPort
    int port;
    @Autowired
    RepositoryService repository;

    final HttpClient http = HttpClient.newHttpClient();

    WeldrClient socket() {
        return new WeldrClient(Path.of(ROOT, "run/api.socket").toAbsolutePath().toString(), null);
    }

    HttpResponse<String> tcp(String method, String path, String contentType, byte[] body) throws Exception {
        HttpRequest.Builder b = path.startsWith("/api/") ? TestServer.request(port, Path.of(ROOT, "state"), path)
                : HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode get(String path) throws Exception {
        return JSON.readTree(tcp("GET", path, null, null).body());
    }

    HttpResponse<String> push(String toml) throws Exception {
        return tcp("POST", "/api/v1/blueprints/new", TOML, toml.getBytes(StandardCharsets.UTF_8));
    }

    static void assertError(HttpResponse<String> r, int code, String id) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("status").asBoolean(true)).isFalse();
        assertThat(body.path("errors").get(0).path("id").asText()).isEqualTo(id);
        assertThat(body.path("errors").get(0).path("msg").asText()).isNotEmpty();
    }

    @Test
    void statusOnBothListeners() throws Exception {
        WeldrClient.Response viaSocket = socket().get("/api/status");
        assertThat(viaSocket.status()).isEqualTo(200);
        JsonNode status = JSON.readTree(viaSocket.body());
        assertThat(status.properties()).extracting(e -> e.getKey()).containsExactlyInAnyOrder(
                "api", "backend", "build", "db_supported", "db_version", "schema_version", "msgs");
        assertThat(status.path("api").asText()).isEqualTo("1");
        assertThat(status.path("backend").asText()).isEqualTo("lorax-composer");
        assertThat(status.path("db_supported").asBoolean()).isTrue();
        assertThat(status.path("msgs").isArray()).isTrue();
        assertThat(get("/api/status")).isEqualTo(status);
        assertError(tcp("POST", "/api/status", null, null), 405, "HTTPError");
        assertThat(JSON.readTree(tcp("POST", "/api/status", null, null).body()).path("errors").get(0).path("code").asInt())
                .isEqualTo(405);
    }

    @Test
    void socketIsGroupReadableOnly() throws Exception {
        Path sock = Path.of(ROOT, "run/api.socket");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
    }

    @Test
    void unknownRoutesAndVersionsAreWeldr404s() throws Exception {
        assertError(tcp("GET", "/api/v1/nothing/here", null, null), 404, "HTTPError");
        assertError(tcp("GET", "/api/v2/blueprints/list", null, null), 404, "HTTPError");
        assertError(tcp("GET", "/api/v0/distros/list", null, null), 404, "HTTPError");
        assertThat(get("/api/v1/distros/list").path("distros").size()).isEqualTo(Distros.names().size());
    }

    @Test
    void theExamplesArePresentAndV0AnswersLikeV1() throws Exception {
        JsonNode list = get("/api/v1/blueprints/list");
        assertThat(list.path("blueprints").toString()).contains("example-http-server", "example-atlas", "example-development");
        assertThat(get("/api/v0/blueprints/info/example-atlas")).isEqualTo(get("/api/v1/blueprints/info/example-atlas"));
        JsonNode zero = get("/api/v1/blueprints/list?limit=0");
        assertThat(zero.path("blueprints").size()).isZero();
        assertThat(zero.path("total").asInt()).isEqualTo(list.path("total").asInt());
        assertError(tcp("GET", "/api/v1/blueprints/list?limit=x", null, null), 400, "BadLimitOrOffset");
    }

    @Test
    void pushShowPushAgainChangesUndoDelete() throws Exception {
        String toml = """
                name = "round-trip"
                description = "A blueprint that goes round"
                version = "0.0.1"
                modules = []
                groups = []

                [[packages]]
                name = "tmux"
                version = "*"

                [customizations]
                hostname = "rt"

                [[customizations.user]]
                name = "admin"
                groups = ["wheel"]
                """;
        assertThat(push(toml).statusCode()).isEqualTo(200);
        String shown = tcp("GET", "/api/v1/blueprints/info/round-trip?format=toml", null, null).body();
        assertThat(BlueprintParser.parseToml(shown)).isEqualTo(BlueprintParser.parseToml(toml));

        push(toml);
        assertThat(BlueprintParser.parseToml(socket().get("/api/v1/blueprints/info/round-trip?format=toml").text())
                .version()).isEqualTo("0.0.2");
        push(toml.replace("0.0.1", "1.5.0").replace("tmux", "vim"));
        JsonNode info = get("/api/v1/blueprints/info/round-trip");
        assertThat(info.at("/blueprints/0/version").asText()).isEqualTo("1.5.0");
        assertThat(info.at("/changes/0/changed").asBoolean()).isFalse();

        JsonNode changes = get("/api/v1/blueprints/changes/round-trip").at("/blueprints/0");
        assertThat(changes.path("total").asInt()).isEqualTo(3);
        assertThat(changes.path("changes").findValuesAsText("message")).containsExactly(
                "Recipe round-trip, version 1.5.0 saved.", "Recipe round-trip, version 0.0.2 saved.",
                "Recipe round-trip, version 0.0.1 saved.");
        assertThat(changes.at("/changes/0/timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        String first = changes.at("/changes/2/commit").asText();

        JsonNode diff = get("/api/v1/blueprints/diff/round-trip/" + first + "/NEWEST");
        assertThat(diff.path("diff").toString()).contains("{\"Version\":\"0.0.1\"}", "{\"Version\":\"1.5.0\"}");
        JsonNode atFirst = get("/api/v1/blueprints/change/round-trip/" + first);
        assertThat(atFirst.path("version").asText()).isEqualTo("0.0.1");

        assertThat(tcp("POST", "/api/v1/blueprints/tag/round-trip", null, null).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/blueprints/changes/round-trip").at("/blueprints/0/changes/0/revision").asInt()).isEqualTo(1);

        assertThat(tcp("POST", "/api/v1/blueprints/undo/round-trip/" + first, "application/json", new byte[0])
                .statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/blueprints/info/round-trip").at("/blueprints/0/version").asText()).isEqualTo("0.0.1");

        assertThat(tcp("DELETE", "/api/v1/blueprints/delete/round-trip", null, null).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/blueprints/list?limit=100").path("blueprints").toString()).doesNotContain("round-trip");
        assertThat(get("/api/v1/blueprints/info/round-trip").at("/errors/0/id").asText()).isEqualTo("UnknownBlueprint");
        assertThat(get("/api/v1/blueprints/changes/round-trip").at("/blueprints/0/total").asInt()).isEqualTo(4);
    }

    @Test
    void workspaceAndJsonBodies() throws Exception {
        byte[] json = "{\"name\": \"ws-json\", \"description\": \"j\", \"version\": \"0.1.0\", \"packages\": [{\"name\": \"vim\", \"version\": \"*\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        assertThat(tcp("POST", "/api/v1/blueprints/new", "application/json; charset=utf-8", json).statusCode()).isEqualTo(200);
        byte[] changed = new String(json, StandardCharsets.UTF_8).replace("vim", "nano").getBytes(StandardCharsets.UTF_8);
        assertThat(tcp("POST", "/api/v1/blueprints/workspace", "application/json", changed).statusCode()).isEqualTo(200);
        JsonNode info = get("/api/v1/blueprints/info/ws-json");
        assertThat(info.at("/changes/0/changed").asBoolean()).isTrue();
        assertThat(info.at("/blueprints/0/packages/0/name").asText()).isEqualTo("nano");
        assertThat(get("/api/v1/blueprints/diff/ws-json/NEWEST/WORKSPACE").path("diff").size()).isEqualTo(2);
        assertThat(tcp("DELETE", "/api/v1/blueprints/workspace/ws-json", null, null).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/blueprints/info/ws-json").at("/changes/0/changed").asBoolean()).isFalse();
        assertError(tcp("DELETE", "/api/v1/blueprints/workspace/ws-json", null, null), 400, "BlueprintsError");
    }

    @Test
    void unknownNamesGetTheSpecsErrorIds() throws Exception {
        // lorax joins an empty list after "<name>: ", osbuild-composer says the same; weldr-client asserts it
        assertThat(get("/api/v1/blueprints/info/no-such").at("/errors/0").toString())
                .isEqualTo("{\"id\":\"UnknownBlueprint\",\"msg\":\"no-such: \"}");
        // undo of a blueprint without history is an unknown blueprint, whatever the commit (both references)
        assertError(tcp("POST", "/api/v1/blueprints/undo/no-such/0123456789abcdef0123456789abcdef01234567", null, null),
                400, "UnknownBlueprint");
        assertError(tcp("POST", "/api/v1/blueprints/undo/no-such/deadbeef", null, null), 400, "UnknownBlueprint");
        assertError(tcp("GET", "/api/v1/blueprints/info/no-such?format=toml", null, null), 400, "UnknownBlueprint");
        assertThat(get("/api/v1/blueprints/changes/no-such").at("/errors/0/id").asText()).isEqualTo("UnknownBlueprint");
        assertError(tcp("DELETE", "/api/v1/blueprints/delete/no-such", null, null), 400, "BlueprintsError");
        assertError(tcp("POST", "/api/v1/blueprints/tag/no-such", null, null), 400, "UnknownBlueprint");
        // an unknown commit of a known blueprint stays UnknownCommit
        assertError(tcp("POST", "/api/v1/blueprints/undo/example-http-server/0123456789abcdef0123456789abcdef01234567",
                null, null), 400, "UnknownCommit");
        assertError(tcp("GET", "/api/v1/blueprints/diff/no-such/NEWEST/WORKSPACE", null, null), 400, "UnknownBlueprint");
        assertError(tcp("GET", "/api/v1/blueprints/change/no-such/0123456789abcdef0123456789abcdef01234567", null, null),
                400, "UnknownCommit");
        assertError(tcp("GET", "/api/v1/blueprints/info/example-atlas?format=yaml", null, null), 400, "InvalidChars");
        assertError(tcp("GET", "/api/v1/blueprints/list?branch=..%2Fx", null, null), 400, "InvalidChars");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/b", "..", "../../escape", "with space", "ünï", ".hidden"})
    void badNamesInBodiesAndPathsAreInvalidChars(String name) throws Exception {
        List<String> before = listing();
        assertError(push("name = \"" + name + "\"\ndescription = \"x\"\n"), 400, "InvalidChars");
        assertError(tcp("POST", "/api/v1/blueprints/workspace", TOML,
                ("name = \"" + name + "\"\n").getBytes(StandardCharsets.UTF_8)), 400, "InvalidChars");
        String encoded = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        HttpResponse<String> info = tcp("GET", "/api/v1/blueprints/info/" + encoded, null, null);
        assertThat(info.statusCode()).isIn(400, 404);
        assertThat(JSON.readTree(info.body()).path("status").asBoolean(true)).isFalse();
        assertThat(listing()).isEqualTo(before);
        assertThat(get("/api/status").path("api").asText()).isEqualTo("1");
    }

    @Test
    void badBodiesGetA400AndTheServerStaysUp() throws Exception {
        List<String> before = listing();
        assertError(push("name = \"broken"), 400, "BlueprintsError");
        assertError(push(""), 400, "BlueprintsError");
        assertError(tcp("POST", "/api/v1/blueprints/new", null, "name = \"x\"".getBytes(StandardCharsets.UTF_8)),
                400, "BlueprintsError");
        assertError(tcp("POST", "/api/v1/blueprints/new", "text/plain", "name = \"x\"".getBytes(StandardCharsets.UTF_8)),
                400, "BlueprintsError");
        assertError(tcp("POST", "/api/v1/blueprints/new", "application/json", "{\"name\": ".getBytes(StandardCharsets.UTF_8)),
                400, "BlueprintsError");
        assertError(tcp("POST", "/api/v1/blueprints/new", TOML, new byte[] {'n', 'a', 'm', 'e', '=', '"', (byte) 0xff, '"'}),
                400, "BlueprintsError");
        byte[] huge = ("name = \"huge\"\ndescription = \"" + "x".repeat(10 * 1024 * 1024) + "\"\n").getBytes(StandardCharsets.UTF_8);
        assertError(tcp("POST", "/api/v1/blueprints/new", TOML, huge), 400, "BlueprintsError");
        assertError(push("name = \"v\"\nversion = \"1.0\"\n"), 400, "BlueprintsError");
        assertThat(listing()).isEqualTo(before);
        assertThat(get("/api/v1/blueprints/list?limit=100").path("blueprints").toString()).doesNotContain("huge", "\"v\"");
        assertThat(socket().get("/api/status").status()).isEqualTo(200);
    }

    @Test
    void engineRestAndCockpitRequireTheGeneratedPassword() throws Exception {
        assertThat(tcp("GET", "/engine-rest/process-definition", null, null).statusCode()).isEqualTo(401);
        Path passwordFile = Path.of(ROOT, "state/engine/admin-password");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile))).isEqualTo("rw-------");
        String password = Files.readString(passwordFile).strip();
        assertThat(password).hasSizeGreaterThanOrEqualTo(20).isNotEqualTo("admin");
        HttpRequest authed = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/engine-rest/process-definition?key=compose"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                .build();
        HttpResponse<String> defs = http.send(authed, HttpResponse.BodyHandlers.ofString());
        assertThat(defs.statusCode()).isEqualTo(200);
        assertThat(defs.body()).contains("\"key\":\"compose\"");
        HttpResponse<String> cockpit = tcp("GET", "/operaton/app/cockpit/default/", null, null);
        assertThat(cockpit.statusCode()).isEqualTo(200);
        assertThat(cockpit.body()).contains("Cockpit");
    }

    @Test
    void composeBpmnIsDeployedIntoTheEngine() {
        assertThat(repository.createProcessDefinitionQuery().processDefinitionKey(ComposeProcess.KEY).count()).isPositive();
    }

    /** Every file under the test root, to show that bad requests create nothing anywhere. */
    private static List<String> listing() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of(ROOT))) {
            return files.map(Path::toString).filter(p -> !p.contains("/engine/")).sorted().toList();
        }
    }
}
