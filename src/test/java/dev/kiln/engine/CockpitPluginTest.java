package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.HistoryService;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Cockpit shows every compose: Kiln's plugin is among the packages Cockpit's page loads, its data route answers only
 * a logged-in user, and its page, rendered by Node from the plugin module Cockpit serves, lists finished, failed
 * and running composes newest first with state, step, times and the reason, the running one linked to its
 * instance, hostile values as text.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + CockpitPluginTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + CockpitPluginTest.ROOT + "/apt", "kiln.compose.test-build-seconds=8",
        "kiln.compose.build-concurrency=2"})
class CockpitPluginTest {

    static final String ROOT = "target/it/cockpit";
    static final DebRepository REPO = TestServer.freshSmallRepository(ROOT);
    static final String HOSTILE = "<img src=x onerror=alert(1)>";

    @AfterAll
    static void stop() {
        REPO.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    HistoryService history;

    @Test
    void cockpitListsEveryComposeWithItsStateStepTimesAndReason() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        String finished = server.start("site", "tar", 2);
        String failed = server.start("site", "tar", 1);
        String base = "http://127.0.0.1:" + port;
        HttpClient plain = HttpClient.newHttpClient();
        String password = Files.readString(Path.of(ROOT, "state/engine/admin-password")).strip();
        // an engine start whose blueprint is markup: a compose that fails in prepare, its reason naming the value
        HttpResponse<String> hostile = plain.send(HttpRequest.newBuilder(URI.create(base
                        + "/engine-rest/process-definition/key/compose/start"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        ("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"variables\": {\"blueprint\": {\"value\": \"" + HOSTILE
                        + "\"}, \"type\": {\"value\": \"tar\"}}}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(hostile.statusCode()).as(hostile.body()).isEqualTo(200);
        String hostileUuid = TestServer.JSON.readTree(hostile.body()).get("businessKey").asText();
        assertThat(server.await(finished, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(server.await(failed, 60_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        assertThat(server.await(hostileUuid, 60_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        String running = server.start("site", "tar", 2);
        assertThat(server.await(running, 30_000, "RUNNING")).isEqualTo("RUNNING");

        String route = base + "/operaton/api/cockpit/plugin/kiln/default/composes";
        assertThat(plain.send(HttpRequest.newBuilder(URI.create(route)).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).as("the list without a login").isEqualTo(401);

        // log in as Cockpit does: the XSRF cookie of the first page, then the login form with it as a header
        CookieManager cookies = new CookieManager();
        HttpClient browser = HttpClient.newBuilder().cookieHandler(cookies).build();
        browser.send(HttpRequest.newBuilder(URI.create(base + "/operaton/app/cockpit/default/")).build(),
                HttpResponse.BodyHandlers.discarding());
        String xsrf = cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("XSRF-TOKEN"))
                .findFirst().orElseThrow().getValue();
        HttpResponse<String> login = browser.send(HttpRequest.newBuilder(URI.create(base
                        + "/operaton/api/admin/auth/user/default/login/cockpit"))
                .header("X-XSRF-TOKEN", xsrf).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=admin&password="
                        + URLEncoder.encode(password, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        String page = browser.send(HttpRequest.newBuilder(URI.create(base + "/operaton/app/cockpit/default/")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(page).contains("name: 'cockpit-plugin-kiln', location: '/operaton/api/cockpit/plugin/kiln/static/app'");

        JsonNode list = TestServer.JSON.readTree(browser.send(HttpRequest.newBuilder(URI.create(route)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        List<String> order = new ArrayList<>();
        list.forEach(c -> order.add(c.get("id").asText()));
        assertThat(order).containsExactly(running, hostileUuid, failed, finished);
        JsonNode r = list.get(0);
        assertThat(r.get("status").asText()).isEqualTo("RUNNING");
        assertThat(r.get("step").asText()).isEqualTo("build");
        assertThat(r.get("processInstanceId").asText()).isEqualTo(history.createHistoricProcessInstanceQuery()
                .processInstanceBusinessKey(running).singleResult().getId());
        assertThat(list.get(1).get("error").asText()).contains("must name a blueprint").contains(HOSTILE);
        assertThat(list.get(2).get("error").asText()).contains("TESTING FAILED");
        JsonNode f = list.get(3);
        assertThat(f.get("status").asText()).isEqualTo("FINISHED");
        assertThat(f.get("error").isNull()).isTrue();
        assertThat(f.get("imageSize").asLong()).isPositive();
        assertThat(f.get("finished").asDouble()).isGreaterThanOrEqualTo(f.get("started").asDouble())
                .isGreaterThanOrEqualTo(f.get("created").asDouble());

        // the page itself: the module Cockpit serves, rendered with the logged-in session
        HttpResponse<String> module = plain.send(HttpRequest.newBuilder(URI.create(base
                + "/operaton/api/cockpit/plugin/kiln/static/app/plugin.js")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(module.statusCode()).isEqualTo(200);
        assertThat(module.headers().firstValue("Content-Type").orElse("")).startsWith("text/javascript");
        Path mjs = Path.of(ROOT, "plugin.mjs").toAbsolutePath();
        Files.writeString(mjs, module.body());
        String session = cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("JSESSIONID"))
                .map(HttpCookie::toString).findFirst().orElseThrow();
        Process node = new ProcessBuilder("node", Path.of("src/test/resources/cockpit/render.mjs").toAbsolutePath()
                .toString(), mjs.toString(), base + "/operaton/api/cockpit", session).redirectErrorStream(true).start();
        String shown = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(node.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(node.exitValue()).as(shown).isZero();
        JsonNode view = TestServer.JSON.readTree(shown);
        assertThat(view.get("status").asText()).startsWith("4 composes: 0 waiting, 1 running, 1 finished, 2 failed.");
        assertThat(view.at("/navigation/label").asText()).isEqualTo("Composes");
        assertThat(view.at("/navigation/pagePath").asText()).isEqualTo("#" + view.at("/navigation/route").asText());
        JsonNode rows = view.get("rows");
        assertThat(rows).hasSize(4);
        assertThat(rows.get(0).get("compose").asText()).isEqualTo(running);
        assertThat(rows.get(0).at("/cells/3").asText()).isEqualTo("RUNNING");
        assertThat(rows.get(0).at("/cells/4").asText()).isEqualTo("build");
        assertThat(view.get("links").get(0).get("href").asText())
                .isEqualTo("#/process-instance/" + r.get("processInstanceId").asText() + "/runtime");
        assertThat(rows.get(1).at("/cells/10").asText()).contains(HOSTILE);
        assertThat(rows.get(1).at("/cells/1").asText()).contains(HOSTILE);
        assertThat(rows.get(2).at("/cells/3").asText()).isEqualTo("FAILED");
        assertThat(rows.get(2).at("/cells/10").asText()).contains("TESTING FAILED");
        assertThat(rows.get(3).at("/cells/3").asText()).isEqualTo("FINISHED");
        assertThat(rows.get(3).at("/cells/7").asText()).isNotEmpty(); // finished at
        assertThat(view.get("tags").toString()).doesNotContain("img").doesNotContain("script");
    }
}
