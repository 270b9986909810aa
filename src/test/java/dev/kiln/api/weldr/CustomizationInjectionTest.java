package dev.kiln.api.weldr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.BlueprintStore;
import dev.kiln.kickstart.FinalKickstart;
import dev.kiln.kickstart.Kickstart;
import dev.kiln.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;

/**
 * Every field of every customization Kiln applies, pushed over the real API with line breaks, {@code %post},
 * {@code %end}, quotes, NUL, shell metacharacters, {@code ..}, option-like and huge values: each is refused with a
 * Weldr 400 naming the field, or (free text only: a description, a plain password) kept as data that the plan reads
 * back as one value of one command. Blueprints stored before the checks existed are refused at compose start.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + CustomizationInjectionTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + CustomizationInjectionTest.ROOT + "/no-apt"})
class CustomizationInjectionTest {

    static final String ROOT = "target/it/injection";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Path MARK = Path.of("/tmp/kiln-injected-" + ProcessHandle.current().pid());
    static final String HUGE = "x".repeat(100_000);
    /** Values that would change a plan's or a script's structure if they were pasted into text. */
    static final List<String> HOSTILE = List.of(
            "pw\n%post\ntouch " + MARK + "\n%end\n", "a\r\nrootpw --plaintext x", "%post", "%end", "a\"b", "a'b",
            "a\u0000b", "$(touch " + MARK + ")", "`touch " + MARK + "`", "a;touch " + MARK, "a|b", "a&&b", "../../etc",
            "/home/../../etc", "-rf", "--help", "a b\tc", "a\u2028b", "\\", HUGE);
    /**
     * Where a hostile-looking value is data: free text (a description, a plain password) without control characters,
     * and kernel arguments, which may look like options or paths (they only ever land in files).
     */
    static boolean isData(String field, String value) {
        boolean control = value.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f || ch == 0x2028);
        return switch (field) {
            case "user.password" -> !control && value.length() <= 256;
            case "user.description" -> !control && value.length() <= 256 && !value.contains(":");
            case "kernel.append" -> List.of("-rf", "--help", "../../etc", "/home/../../etc").contains(value);
            case "repositories.name" -> !control && value.length() <= 256;
            case "files.data" -> true; // a file's content: written as it is, named in the plan by its digest
            default -> false;
        };
    }

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    /** One field: its name in error messages, and how a value is placed in a customizations table. */
    record Field(String name, Function<Object, Map<String, Object>> place) {
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static Map<String, Object> user(String key, Object v) {
        Map<String, Object> u = map("name", "alice");
        u.put(key, v);
        return map("user", List.of(u));
    }

    static final List<Field> FIELDS = List.of(
            new Field("hostname", v -> map("hostname", v)),
            new Field("kernel.append", v -> map("kernel", map("append", v))),
            new Field("kernel.name", v -> map("kernel", map("append", "quiet", "name", v))),
            new Field("sshkey.user", v -> map("sshkey", List.of(map("user", v, "key", "ssh-ed25519 AAAA test")))),
            new Field("sshkey.key", v -> map("sshkey", List.of(map("user", "root", "key", v)))),
            new Field("user.name", v -> map("user", List.of(map("name", v)))),
            new Field("user.description", v -> user("description", v)),
            new Field("user.password", v -> user("password", v)),
            new Field("user.key", v -> user("key", v)),
            new Field("user.home", v -> user("home", v)),
            new Field("user.shell", v -> user("shell", v)),
            new Field("user.groups", v -> user("groups", List.of(v))),
            new Field("user.uid", v -> user("uid", v)),
            new Field("user.gid", v -> user("gid", v)),
            new Field("user.expiredate", v -> user("expiredate", v)),
            new Field("group.name", v -> map("group", List.of(map("name", v)))),
            new Field("group.gid", v -> map("group", List.of(map("name", "web", "gid", v)))),
            new Field("timezone.timezone", v -> map("timezone", map("timezone", v))),
            new Field("timezone.ntpservers", v -> map("timezone", map("timezone", "UTC", "ntpservers", List.of(v)))),
            new Field("locale.languages", v -> map("locale", map("languages", List.of(v)))),
            new Field("locale.keyboard", v -> map("locale", map("keyboard", v))),
            new Field("firewall.ports", v -> map("firewall", map("ports", List.of(v)))),
            new Field("firewall.services.enabled", v -> map("firewall", map("services", map("enabled", List.of(v))))),
            new Field("firewall.services.disabled", v -> map("firewall", map("services", map("disabled", List.of(v))))),
            new Field("services.enabled", v -> map("services", map("enabled", List.of(v)))),
            new Field("services.disabled", v -> map("services", map("disabled", List.of(v)))),
            new Field("services.masked", v -> map("services", map("masked", List.of(v)))),
            new Field("filesystem.mountpoint", v -> map("filesystem", List.of(map("mountpoint", v, "minsize", 1L << 30)))),
            new Field("filesystem.minsize", v -> map("filesystem", List.of(map("mountpoint", "/", "minsize", v)))),
            new Field("firewall.zones.name", v -> map("firewall", map("zones", List.of(map("name", v, "sources",
                    List.of("10.0.0.0/8")))))),
            new Field("firewall.zones.sources", v -> map("firewall", map("zones", List.of(map("name", "trusted",
                    "sources", List.of(v)))))),
            new Field("directories.path", v -> map("directories", List.of(map("path", v)))),
            new Field("directories.user", v -> map("directories", List.of(map("path", "/etc/x", "user", v)))),
            new Field("directories.group", v -> map("directories", List.of(map("path", "/etc/x", "group", v)))),
            new Field("directories.mode", v -> map("directories", List.of(map("path", "/etc/x", "mode", v)))),
            new Field("files.path", v -> map("files", List.of(map("path", v, "data", "x")))),
            new Field("files.user", v -> map("files", List.of(map("path", "/etc/x", "user", v)))),
            new Field("files.group", v -> map("files", List.of(map("path", "/etc/x", "group", v)))),
            new Field("files.mode", v -> map("files", List.of(map("path", "/etc/x", "mode", v)))),
            new Field("files.data", v -> map("files", List.of(map("path", "/etc/x", "data", v)))),
            new Field("repositories.id", v -> repo("id", v)),
            new Field("repositories.name", v -> repo("name", v)),
            new Field("repositories.filename", v -> repo("filename", v)),
            new Field("repositories.baseurls", v -> repo("baseurls", List.of(v))),
            new Field("repositories.mirrorlist", v -> repo("mirrorlist", v)),
            new Field("repositories.suites", v -> repo("suites", List.of(v))),
            new Field("repositories.components", v -> repo("components", List.of(v))),
            new Field("repositories.gpgkeys", v -> repo("gpgkeys", List.of(v))),
            new Field("cacerts.pem_certs", v -> map("cacerts", map("pem_certs", List.of(v)))),
            new Field("partitioning_mode", v -> map("partitioning_mode", v)),
            new Field("disk.partitions.mountpoint", v -> map("disk", map("partitions", List.of(map("mountpoint", v))))),
            new Field("disk.partitions.label", v -> map("disk", map("partitions", List.of(map("mountpoint", "/data",
                    "label", v))))),
            new Field("disk.partitions.fs_type", v -> map("disk", map("partitions", List.of(map("mountpoint", "/data",
                    "fs_type", v))))),
            new Field("disk.partitions.name", v -> map("disk", map("partitions", List.of(map("type", "lvm", "name", v,
                    "logical_volumes", List.of(map("mountpoint", "/data"))))))),
            new Field("disk.partitions.logical_volumes.name", v -> map("disk", map("partitions", List.of(map("type",
                    "lvm", "logical_volumes", List.of(map("mountpoint", "/data", "name", v))))))),
            new Field("disk.minsize", v -> map("disk", map("minsize", v))));

    static Map<String, Object> repo(String key, Object v) {
        Map<String, Object> r = map("id", "extra", "baseurls", List.of("http://repo.example/debian"));
        r.put(key, v);
        return map("repositories", List.of(r));
    }

    @LocalServerPort
    int port;
    @Autowired
    BlueprintStore store;
    final HttpClient http = HttpClient.newHttpClient();

    @AfterAll
    static void nothingRan() {
        assertThat(MARK).doesNotExist();
    }

    HttpResponse<String> post(String path, String json) throws Exception {
        return http.send(TestServer.request(port, Path.of(ROOT, "state"), path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String blueprint(String name, Map<String, Object> customizations) throws Exception {
        return JSON.writeValueAsString(map("name", name, "description", "", "version", "0.0.1",
                "packages", List.of(), "customizations", customizations));
    }

    @Test
    void everyFieldRefusesHostileValuesAtPush() throws Exception {
        List<String> accepted = new ArrayList<>();
        int refused = 0;
        for (Field field : FIELDS) {
            for (String value : HOSTILE) {
                String json = blueprint("inject", field.place().apply(value));
                HttpResponse<String> r = post("/api/v1/blueprints/new", json);
                if (r.statusCode() == 200) {
                    assertThat(isData(field.name(), value))
                            .as(field.name() + " accepted " + JSON.writeValueAsString(value)).isTrue();
                    accepted.add(field.name() + "=" + JSON.writeValueAsString(value));
                    continue;
                }
                refused++;
                assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
                JsonNode error = JSON.readTree(r.body()).path("errors").get(0);
                assertThat(error.path("id").asText()).isEqualTo("BlueprintsError");
                assertThat(error.path("msg").asText()).as(field.name()).contains(field.name());
                assertThat(error.path("msg").asText().length()).isLessThan(2000);
            }
        }
        // numbers given as text are refused too, and out-of-range numbers
        for (String f : List.of("user.uid", "user.gid", "group.gid")) {
            Field field = FIELDS.stream().filter(x -> x.name().equals(f)).findFirst().orElseThrow();
            for (Object n : List.of(-1L, 9223372036854775807L, 4294967296L, "1000")) {
                HttpResponse<String> r = post("/api/v1/blueprints/new", blueprint("inject", field.place().apply(n)));
                assertThat(r.statusCode()).as(f + "=" + n).isEqualTo(400);
                assertThat(r.body()).contains(f);
            }
        }
        assertThat(refused).isGreaterThan(FIELDS.size() * (HOSTILE.size() - 4));
        assertThat(accepted).as("values kept as data").hasSizeLessThan(80);
    }

    @Test
    void freeTextStaysOneValueOfOneCommand() throws Exception {
        for (String value : HOSTILE) {
            if (!isData("user.description", value)) {
                continue;
            }
            var bp = BlueprintParser.parseJson(blueprint("free", user("description", value)));
            String plan = FinalKickstart.render("test", Kickstart.parse("lang en_US.UTF-8\n%packages\n%end\n"), bp,
                    List.of(), List.of("base-files=13"));
            Kickstart back = Kickstart.parse(plan);
            assertThat(back.commands()).hasSize(3); // lang, firewall, user
            assertThat(back.commands().get(2)).startsWith("user --name=alice --gecos=");
            assertThat(back.posts()).isEmpty();
            assertThat(back.packages()).containsExactly("base-files=13");
        }
    }

    @Test
    void plainPasswordsAreHashedBeforeTheyAreStored() throws Exception {
        assertThat(post("/api/v1/blueprints/new", blueprint("secret", user("password", "hunter2 is;secret"))).statusCode())
                .isEqualTo(200);
        String toml = http.send(TestServer.request(port, Path.of(ROOT, "state"), "/api/v1/blueprints/info/secret?format=toml")
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(toml).doesNotContain("hunter2").containsPattern("password = \"\\$6\\$[./A-Za-z0-9]{16}\\$[./A-Za-z0-9]{86}\"");
        try (var files = Files.walk(Path.of(ROOT, "state"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as(f.toString())
                        .doesNotContain("hunter2");
            }
        }
    }

    @Test
    void storedBlueprintsAreCheckedAgainAtComposeStart() throws Exception {
        // written straight into the store, as a blueprint pushed before these checks existed would be
        store.push("master", BlueprintParser.parseJson(blueprint("old", map("group",
                List.of(map("name", "web", "gid", "1000\n%post\ntouch " + MARK + "\n%end"))))));
        HttpResponse<String> r = post("/api/v1/compose", "{\"blueprint_name\": \"old\", \"compose_type\": \"tar\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains("group.gid");
    }
}
