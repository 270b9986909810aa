package dev.kiln.api.weldr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;

/**
 * A bounded fuzz run over every Weldr route on loopback TCP (with the token, so that the routes themselves are
 * reached): malformed paths and percent-encodings, hostile path and query values, broken bodies and content types.
 * No answer may be a 5xx; every answer under {@code /api} is the Weldr envelope; the server is alive afterwards.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + HostileRequestsTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + HostileRequestsTest.ROOT + "/no-apt"})
class HostileRequestsTest {

    static final String ROOT = "target/it/hostile-requests";

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    static final List<String> ROUTES = List.of("/api/status", "/api/v1/distros/list",
            "/api/v1/blueprints/list", "/api/v1/blueprints/info/{}", "/api/v1/blueprints/changes/{}",
            "/api/v1/blueprints/new", "/api/v1/blueprints/workspace", "/api/v1/blueprints/workspace/{}",
            "/api/v1/blueprints/delete/{}", "/api/v1/blueprints/undo/{}/{}", "/api/v1/blueprints/tag/{}",
            "/api/v1/blueprints/diff/{}/{}/{}", "/api/v1/blueprints/freeze/{}", "/api/v1/blueprints/depsolve/{}",
            "/api/v1/blueprints/change/{}/{}", "/api/v1/projects/list", "/api/v1/projects/info/{}",
            "/api/v1/projects/depsolve/{}", "/api/v1/projects/source/list", "/api/v1/projects/source/info/{}",
            "/api/v1/projects/source/new", "/api/v1/projects/source/delete/{}", "/api/v1/modules/list",
            "/api/v1/modules/list/{}", "/api/v1/modules/info/{}", "/api/v1/compose", "/api/v1/compose/types",
            "/api/v1/compose/queue", "/api/v1/compose/finished", "/api/v1/compose/failed",
            "/api/v1/compose/status/{}", "/api/v1/compose/info/{}", "/api/v1/compose/cancel/{}",
            "/api/v1/compose/delete/{}", "/api/v1/compose/log/{}", "/api/v1/compose/logs/{}",
            "/api/v1/compose/metadata/{}", "/api/v1/compose/results/{}", "/api/v1/compose/image/{}",
            "/api/v0/blueprints/info/{}", "/api/v0/compose/status/{}", "/api/v0/projects/source/info/{}",
            "/api/kiln/compose/log/{}", "/api/kiln/compose/sbom/{}", "/api/kiln/compose/metrics/{}",
            "/api/kiln/admin/unlock");
    /** Path values, already as they go on the request line (some deliberately malformed). */
    static final List<String> VALUES = List.of("example-http-server", "%", "%zz", "%00", "%2e%2e", "..", "%2f",
            "a;b", "%ff%fe", "%c0%af", "x".repeat(5000), "*", ",", ",,", "-1024", "99999999999999999999", "%0d%0a",
            "%5c", "%20", "a%09b", "%e2%80%a8", "0b4e28ba-2fa1-11d2-883f-0016d3cca427", "not-a-uuid", "-rf",
            "--help", "%25", "a%2Fb", "%u0041", "~", "%7b%7d", "';--", "%22", "%3Cscript%3E", "");
    static final List<String> QUERIES = List.of("", "?size=-1024", "?size=abc", "?size=99999999999999999999",
            "?format=toml", "?format=%00", "?test=3", "?test=-1", "?limit=-1", "?offset=-5", "?limit=abc",
            "?offset=99999999999999999999", "?branch=..%2f..", "?branch=%00", "?blueprint=%", "?type=%zz",
            "?status=x", "?distro=%0a", "?progress=%0a", "?progress=%00",
            "?after=..&progress=" + "9".repeat(400), "?arch=..", "?%=%", "?a=b&&&=", "?" + "q=".repeat(2000));
    static final List<String> TYPES = List.of("application/json", "text/x-toml", "text/plain",
            "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin-1",
            "application/json; charset=nope", "", "%%%", "application/json;;;=");
    static final List<String> BODIES = List.of("", "{", "[]", "null", "{\"name\": 1}", "name = ", "\u0000\u0001",
            "{\"blueprint_name\": \"x\", \"compose_type\": {}}", "{\"blueprint_name\": [], \"compose_type\": \"tar\"}",
            "{\"blueprint_name\": \"example-http-server\", \"compose_type\": \"tar\", \"size\": 9223372036854775807}",
            "{\"blueprint_name\": \"example-http-server\", \"compose_type\": \"tar\", \"size\": -1}",
            "{\"id\": \"s\", \"type\": \"deb\", \"url\": \"file:///etc\", \"suites\": [\"a\"], \"components\": [\"b\"]}",
            "{\"id\": \"s\", \"type\": \"deb\", \"url\": \"http://h:99999/\", \"suites\": [\"a\"], \"components\": [\"b\"]}",
            "{\"id\": \"s\", \"type\": \"deb\", \"url\": \"http://[::1/\", \"suites\": [\"a\"], \"components\": [\"b\"]}",
            "{\"id\": \"s\", \"type\": \"deb\", \"url\": \"http:///x\", \"suites\": [\"a\"], \"components\": [\"b\"]}",
            "id = \"s\"\ntype = \"yum-metalink\"\nurl = \"https://h/\"\n", "name = \"a\"\nversion = \"x.y\"\n",
            "name = \"a\"\n[[packages]]\nname = 5\n", "{\"name\": \"a\", \"packages\": [{\"name\": null}]}",
            "name = \"" + "a".repeat(300) + "\"\n", "\"\\ud800\"", "{\"a\":" .repeat(2000));
    static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS");

    @LocalServerPort
    int port;

    @Test
    void noHostileRequestGetsA5xx() throws Exception {
        String token = Files.readString(Path.of(ROOT, "state/api-token")).strip();
        Random random = new Random(11);
        List<String> failures = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < 3000; i++) {
            String route = ROUTES.get(random.nextInt(ROUTES.size()));
            StringBuilder path = new StringBuilder();
            for (String part : route.split("\\{\\}", -1)) {
                if (path.length() > 0 || route.startsWith("{}")) {
                    path.append(VALUES.get(random.nextInt(VALUES.size())));
                }
                path.append(part);
            }
            String target = path + QUERIES.get(random.nextInt(QUERIES.size()));
            String method = METHODS.get(random.nextInt(METHODS.size()));
            String type = TYPES.get(random.nextInt(TYPES.size()));
            String body = method.equals("GET") || method.equals("HEAD") ? "" : BODIES.get(random.nextInt(BODIES.size()));
            int status = send(method, target, type, body, token);
            sent++;
            if (status >= 500 || status < 100) {
                failures.add(status + " " + method + " " + target.substring(0, Math.min(200, target.length())) + " ["
                        + type + "] " + body.substring(0, Math.min(80, body.length())));
            }
        }
        for (String raw : List.of("GET /api/v1/blueprints/info/%  HTTP/1.1", "GET /api/v1/%c0 HTTP/1.1",
                "GET /api/v1/compose/log/" + "%ff".repeat(100) + " HTTP/1.1", "GET /api/v1/../../etc/passwd HTTP/1.1",
                "GET /api//v1//blueprints//list HTTP/1.1", "GET /api/v1/blueprints/info/a%2F..%2F..%2Fetc HTTP/1.1")) {
            int status = sendRaw(raw + "\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: close\r\n\r\n");
            sent++;
            if (status >= 500 || status < 100) {
                failures.add(status + " " + raw);
            }
        }
        System.out.printf("hostile requests: %d sent, %d answered >= 500%n", sent, failures.size());
        assertThat(failures).isEmpty();
        assertThat(new TestServer(port, Path.of(ROOT, "state")).call("GET", "/api/status", null, null).statusCode())
                .isEqualTo(200);
    }

    int send(String method, String target, String type, String body, String token) throws IOException {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer " + token + "\r\nConnection: close\r\n");
        if (!type.isEmpty()) {
            head.append("Content-Type: ").append(type).append("\r\n");
        }
        head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        request.writeBytes(payload);
        return exchange(request.toByteArray(), method.equals("HEAD"));
    }

    int sendRaw(String request) throws IOException {
        return exchange(request.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    /** The status code of the answer; -1 when the server closed the connection without one. */
    int exchange(byte[] request, boolean head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            byte[] start = in.readNBytes(12);
            in.readAllBytes();
            String line = new String(start, StandardCharsets.ISO_8859_1);
            return line.startsWith("HTTP/1.1 ") ? Integer.parseInt(line.substring(9, 12)) : -1;
        }
    }
}
