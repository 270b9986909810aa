package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.springframework.util.FileSystemUtils;

/** Real-HTTP helpers for tests of a running Kiln, and the small signed repository they compose from. */
public final class TestServer {

    public static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;
    private final String token;

    /** A client of the server on {@code port} whose state directory is {@code stateDir} (for its API token). */
    public TestServer(int port, Path stateDir) {
        this("http://127.0.0.1:" + port, stateDir);
    }

    /** A client of the server at {@code base} ({@code http://HOST:PORT}). */
    public TestServer(String base, Path stateDir) {
        this.base = base;
        this.token = token(stateDir);
    }

    /** The API token the server made in its state directory (TCP requests send it as a bearer credential). */
    public static String token(Path stateDir) {
        try {
            return Files.readString(stateDir.resolve("api-token")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A request to a server's Weldr API over TCP, with its token. */
    public static HttpRequest.Builder request(int port, Path stateDir, String path) {
        return request("http://127.0.0.1:" + port, stateDir, path);
    }

    public static HttpRequest.Builder request(String base, Path stateDir, String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token(stateDir));
    }

    public HttpResponse<String> call(String method, String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    public JsonNode json(String method, String path, String contentType, String body) {
        try {
            return JSON.readTree(call(method, path, contentType, body).body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The small repository's blueprint: {@code site}, the package {@code hello}. */
    public static final String SITE = "name = \"site\"\n[[packages]]\nname = \"hello\"\n";

    /** Pushes a TOML blueprint (fails the test with the server's answer unless it is taken). */
    public void push(String toml) {
        HttpResponse<String> r = call("POST", "/api/v1/blueprints/new", "text/x-toml", toml);
        if (r.statusCode() != 200) {
            throw new AssertionError("push refused: " + r.statusCode() + " " + r.body());
        }
    }

    public JsonNode get(String path) {
        return json("GET", path, null, null);
    }

    /** Starts a compose and answers its UUID (fails the test with the server's answer otherwise). */
    public String start(String blueprint, String type, int test) {
        return start(blueprint, type, test, "");
    }

    /** As {@link #start(String, String, int)}, with more JSON fields ({@code , "boot_test": true}). */
    public String start(String blueprint, String type, int test, String moreFields) {
        HttpResponse<String> r = call("POST", "/api/v1/compose" + (test != 0 ? "?test=" + test : ""),
                "application/json", "{\"blueprint_name\": \"" + blueprint + "\", \"compose_type\": \"" + type
                        + "\", \"branch\": \"master\"" + moreFields + "}");
        if (r.statusCode() != 200) {
            throw new AssertionError("compose start failed: " + r.body());
        }
        try {
            return JSON.readTree(r.body()).path("build_id").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String status(String uuid) {
        JsonNode s = get("/api/v1/compose/status/" + uuid);
        return s.path("uuids").isEmpty() ? "GONE" : s.at("/uuids/0/queue_status").asText();
    }

    /**
     * Deletes a finished compose and its results through the API ({@code compose delete}): image tests call it once
     * an image is checked, so that a run holds one image at a time however little disk the machine has.
     */
    public void delete(String uuid) {
        JsonNode answer = json("DELETE", "/api/v1/compose/delete/" + uuid, null, null);
        if (answer.path("errors").size() > 0 || !answer.at("/uuids/0/status").asBoolean()) {
            throw new AssertionError("compose delete " + uuid + ": " + answer);
        }
    }

    /** Waits until the compose reaches one of {@code states}; answers the state reached. */
    public String await(String uuid, long timeoutMs, String... states) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        String now = null;
        while (System.currentTimeMillis() < deadline) {
            now = status(uuid);
            for (String s : states) {
                if (s.equals(now)) {
                    return now;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("compose " + uuid + " is " + now + ", not " + String.join("|", states));
    }

    /**
     * For a test class's static set-up: {@code rootDir} emptied, the {@link #smallRepository} served from it and an
     * apt configuration naming it at {@code rootDir/apt}.
     */
    public static DebRepository freshSmallRepository(String rootDir) {
        FileSystemUtils.deleteRecursively(Path.of(rootDir).toFile());
        try {
            Path root = Files.createDirectories(Path.of(rootDir).toAbsolutePath());
            DebRepository repo = smallRepository(root);
            aptDir(root, repo);
            return repo;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A small signed repository with an Essential base and a package whose postinst leaves a mark. */
    public static DebRepository smallRepository(Path dir) throws IOException, InterruptedException {
        return smallRepository(dir, "127.0.0.1");
    }

    /** The small repository, served on {@code address}. */
    public static DebRepository smallRepository(Path dir, String address) throws IOException, InterruptedException {
        return new DebRepository(dir)
                .add("base-files", "13", "Essential: yes")
                .add("libc", "2.36-9", "Priority: required")
                .add("hello", "2.10-3", "Depends: libc (>= 2.30)")
                .add("web", "1.0", "Depends: httpd-a | httpd-b")
                .add("httpd-a", "2.4.62-1", "Depends: libc (>= 2.30)")
                .add("httpd-b", "1.0")
                .add("broken", "1.0", "Depends: missing-thing (>= 5)")
                .publish().serve(address);
    }

    /**
     * An apt configuration with the host's own sources (the Debian base system, as the embedded default uses them)
     * and the local repository, for {@code kiln.sources.apt-dir}.
     */
    public static Path hostAndLocalApt(Path root, DebRepository repo) throws IOException {
        Path apt = aptDir(root, repo);
        try (Stream<Path> files = Files.list(Path.of("/etc/apt/sources.list.d"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".sources") || f.toString().endsWith(".list")).toList()) {
                Files.copy(f, apt.resolve("sources.list.d").resolve("host-" + f.getFileName()));
            }
        }
        if (Files.exists(Path.of("/etc/apt/sources.list"))) {
            Files.copy(Path.of("/etc/apt/sources.list"), apt.resolve("sources.list"));
        }
        return apt;
    }

    /** Writes an apt configuration naming the repository, for {@code kiln.sources.apt-dir}. */
    public static Path aptDir(Path root, DebRepository repo) throws IOException {
        Path apt = Files.createDirectories(root.resolve("apt/sources.list.d"));
        Files.writeString(apt.resolve("local.sources"), repo.sourcesStanza());
        return apt.getParent();
    }
}
