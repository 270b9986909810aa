package dev.kiln.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.cli.KilnCli;
import dev.kiln.cli.WeldrClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service as it starts by default: the Weldr API on the unix socket only; on loopback TCP every {@code /api}
 * request without the token answers 401, with the token 403 (TCP is off), a foreign {@code Host} 400, and Cockpit
 * and {@code /engine-rest} keep their own login.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + TcpGuardTest.ROOT + "/state", "kiln.api.socket=" + TcpGuardTest.ROOT + "/run/api.socket",
        "kiln.sources.apt-dir=" + TcpGuardTest.ROOT + "/no-apt"})
class TcpGuardTest {

    static final String ROOT = "target/it/tcp-guard";
    static final JsonMapper JSON = JsonMapper.builder().build();

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    @LocalServerPort
    int port;
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> tcp(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    String token() throws Exception {
        return Files.readString(Path.of(ROOT, "state/api-token")).strip();
    }

    @Test
    void theTokenIsSecretAndLong() throws Exception {
        Path file = Path.of(ROOT, "state/api-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
        assertThat(token()).matches("[0-9a-f]{64}");
    }

    @Test
    void unauthenticatedTcpRequestsGet401() throws Exception {
        for (String path : List.of("/api/status", "/api/v1/blueprints/list", "/api/v1/compose/queue",
                "/api/v0/projects/list", "/api/nothing")) {
            for (String auth : new String[] {null, "Bearer wrong", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer " + "0".repeat(64)}) {
                HttpResponse<String> r = tcp(path, auth);
                assertThat(r.statusCode()).as(path + " " + auth).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"kiln\"");
                JsonNode body = JSON.readTree(r.body());
                assertThat(body.path("status").asBoolean(true)).isFalse();
                assertThat(body.at("/errors/0/id").asText()).isEqualTo("Unauthorized");
            }
        }
    }

    @Test
    void theTokenAloneDoesNotOpenTcpWhenItIsOff() throws Exception {
        HttpResponse<String> r = tcp("/api/status", "Bearer " + token());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("kiln.api.tcp-weldr=false");
    }

    @Test
    void workerRoutesNeedTheTokenOnlyAndTheEngineTakesItToo() throws Exception {
        // remote build workers reach a node over TCP with the token, whether the Weldr API is on TCP or not
        String route = "/api/kiln/worker/no-such-task/input/deps.toml?worker=w1";
        assertThat(tcp(route, null).statusCode()).isEqualTo(401);
        HttpResponse<String> r = tcp(route, "Bearer " + token());
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(r.body()).contains("TaskNotHeld");
        assertThat(tcp("/engine-rest/external-task/count", "Bearer " + token()).statusCode()).isEqualTo(200);
        assertThat(tcp("/engine-rest/external-task/count", "Bearer " + "0".repeat(64)).statusCode()).isEqualTo(401);
        assertThat(tcp("/engine-rest/external-task/count", null).statusCode()).isEqualTo(401);
    }

    @Test
    void theSocketNeedsNoToken() throws Exception {
        WeldrClient socket = new WeldrClient(Path.of(ROOT, "run/api.socket").toAbsolutePath().toString(), null);
        WeldrClient.Response r = socket.get("/api/status");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("\"api\"");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(Path.of(ROOT, "run/api.socket"))))
                .isEqualTo("rw-rw----");
        // compose start reads only a body declared JSON (a cross-site form post is text/plain or a form type)
        byte[] body = "{\"blueprint_name\": \"example-http-server\", \"compose_type\": \"tar\"}".getBytes(StandardCharsets.UTF_8);
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
            WeldrClient.Response refused = socket.post("/api/v1/compose?test=2", type, body);
            assertThat(refused.status()).as(type).isEqualTo(400);
            assertThat(JSON.readTree(refused.text()).at("/errors/0/id").asText()).isEqualTo("MissingPost");
        }
    }

    @Test
    void aForeignHostIsRefusedEverywhereOnTcp() throws Exception {
        for (String path : new String[] {"/api/status", "/operaton/app/cockpit/default/", "/engine-rest/engine"}) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: attacker.example:" + port
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(answer).as(path).startsWith("HTTP/1.1 400").contains("Host not allowed");
            }
        }
        assertThat(tcp("/operaton/app/cockpit/default/", null).statusCode()).isEqualTo(200);
        // /engine-rest/engine (the list of engine names) is the one path the engine's filter leaves open
        assertThat(tcp("/engine-rest/process-definition", null).statusCode()).isEqualTo(401);
    }

    @Autowired
    ProcessEngine engine;

    @Test
    void wrongPasswordsNeverLockTheAdminForGoodAndKilnAdminUnlockClearsThem() throws Exception {
        assertThat(((ProcessEngineConfigurationImpl) engine.getProcessEngineConfiguration()).getLoginMaxAttempts())
                .isEqualTo(Integer.MAX_VALUE);
        String password = Files.readString(Path.of(ROOT, "state/engine/admin-password")).strip();
        String wrong = "Basic " + Base64.getEncoder().encodeToString("admin:wrong".getBytes(StandardCharsets.UTF_8));
        String right = "Basic " + Base64.getEncoder().encodeToString(("admin:" + password).getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 12; i++) {
            assertThat(tcp("/engine-rest/process-definition", wrong).statusCode()).isEqualTo(401);
        }
        assertThat(tcp("/engine-rest/process-definition", right).statusCode()).as("held back for a while").isEqualTo(401);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = KilnCli.execute(new PrintStream(out, true, StandardCharsets.UTF_8), System.err, Path.of(ROOT),
                "-s", Path.of(ROOT, "run/api.socket").toAbsolutePath().toString(), "admin", "unlock");
        assertThat(exit).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("admin unlocked: admin\n");
        assertThat(tcp("/engine-rest/process-definition", right).statusCode()).isEqualTo(200);
    }
}
