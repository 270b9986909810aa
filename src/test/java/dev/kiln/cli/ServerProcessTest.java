package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.testing.KilnProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service as its own process (as {@code java -jar kiln.jar} runs it), driven by the kiln CLI over the unix
 * socket; then killed with SIGKILL and started again on the same state directory.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServerProcessTest {

    @TempDir
    static Path root;
    static Path socket;
    static KilnProcess server;

    /** What one CLI run printed and its exit status. */
    record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() throws Exception {
        socket = root.resolve("run/api.socket");
        server = new KilnProcess(root, "kiln.state-dir=" + root.resolve("state"), "kiln.api.tcp-weldr=true", "kiln.api.socket=" + socket,
                "kiln.sources.apt-dir=" + root.resolve("no-apt"));
        System.out.printf("kiln answered /api/status %d ms after its start%n", server.start());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of("-s", socket.toString()));
        all.addAll(List.of(args));
        int exit = KilnCli.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), root, all.toArray(String[]::new));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Path write(String name, String text) throws IOException {
        return Files.writeString(root.resolve(name), text);
    }

    static final String BP = """
            name = "cli-test"
            description = "Pushed by the CLI"
            version = "0.0.1"

            [[packages]]
            name = "tmux"
            version = "*"
            """;

    @Test
    @Order(1)
    void statusShowPrintsWhatComposerCliPrints() {
        Run r = cli("status", "show");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("API server status:\n    Database version:   0\n    Database supported: True\n"
                + "    Schema version:     0\n    API version:        1\n    Backend:            lorax-composer\n"
                + "    Build:              kiln-");
        Run viaTcp = cli("--url", "http://127.0.0.1:" + server.port, "--token-file",
                server.stateDir().resolve("api-token").toString(), "status", "show");
        assertThat(viaTcp.out()).isEqualTo(r.out());
        Run json = cli("--json", "status", "show");
        assertThat(json.out()).contains("\"backend\" : \"lorax-composer\"");
    }

    @Test
    @Order(2)
    void pushShowChangesDiffTagUndoSaveWorkspaceDelete() throws Exception {
        assertThat(cli("blueprints", "list").out()).contains("example-http-server\n");
        write("cli-test.toml", BP);
        assertThat(cli("blueprints", "push", "cli-test.toml").exit()).isZero();
        Run show = cli("blueprints", "show", "cli-test");
        assertThat(show.exit()).isZero();
        assertThat(BlueprintParser.parseToml(show.out())).isEqualTo(BlueprintParser.parseToml(BP));

        assertThat(cli("blueprints", "push", "cli-test.toml").exit()).isZero();
        assertThat(cli("blueprints", "show", "cli-test").out()).contains("version = \"0.0.2\"");

        Run changes = cli("blueprints", "changes", "cli-test");
        assertThat(changes.out()).matches("(?s)cli-test\n"
                + "    \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  [0-9a-f]{40}\n    Recipe cli-test, version 0.0.2 saved.\n\n"
                + "    \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  [0-9a-f]{40}\n    Recipe cli-test, version 0.0.1 saved.\n\n");
        String first = changes.out().lines().filter(l -> l.matches(".*[0-9a-f]{40}")).toList().get(1).strip().split("  ")[1];

        assertThat(cli("blueprints", "diff", "cli-test", first, "NEWEST").out())
                .isEqualTo("Changed Version 0.0.1 -> 0.0.2\n");

        assertThat(cli("blueprints", "tag", "cli-test").exit()).isZero();
        assertThat(cli("blueprints", "changes", "cli-test").out()).containsPattern("[0-9a-f]{40}  revision 1\n");

        assertThat(cli("blueprints", "undo", "cli-test", first).exit()).isZero();
        assertThat(cli("blueprints", "show", "cli-test").out()).contains("version = \"0.0.1\"");

        write("ws.toml", BP.replace("tmux", "vim"));
        assertThat(cli("blueprints", "workspace", "ws.toml").exit()).isZero();
        assertThat(cli("blueprints", "show", "cli-test").out()).contains("name = \"vim\"");
        assertThat(cli("blueprints", "diff", "cli-test", "NEWEST", "WORKSPACE").out())
                .isEqualTo("Added Package vim *\nRemoved Package tmux *\n");

        Files.delete(root.resolve("cli-test.toml"));
        assertThat(cli("blueprints", "save", "cli-test", "example-atlas").exit()).isZero();
        assertThat(Files.readString(root.resolve("cli-test.toml"))).contains("name = \"vim\"");
        assertThat(root.resolve("example-atlas.toml")).exists();

        Run json = cli("--json", "blueprints", "list");
        assertThat(json.out()).startsWith("[").contains("\"path\" : \"/blueprints/list").contains("\"cli-test\"");

        assertThat(cli("blueprints", "delete", "cli-test").exit()).isZero();
        assertThat(cli("blueprints", "list").out()).doesNotContain("cli-test");
    }

    @Test
    @Order(3)
    void errorsExitOneWithTheServersMessage() throws Exception {
        Run show = cli("blueprints", "show", "no-such");
        assertThat(show.exit()).isEqualTo(1);
        assertThat(show.err()).contains("UnknownBlueprint: no-such: ");

        Run save = cli("blueprints", "save", "no-such");
        assertThat(save.exit()).isEqualTo(1);
        assertThat(root.resolve("no-such.toml")).doesNotExist();

        write("bad.toml", "name = \"bad/name\"\n");
        Run push = cli("blueprints", "push", "bad.toml");
        assertThat(push.exit()).isEqualTo(1);
        assertThat(push.err()).contains("InvalidChars");

        Run delete = cli("blueprints", "delete", "no-such");
        assertThat(delete.exit()).isEqualTo(1);
        assertThat(delete.err()).contains("BlueprintsError: Unknown blueprint: no-such");

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = KilnCli.execute(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err), root,
                "-s", root.resolve("nowhere.socket").toString(), "status", "show");
        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).contains("cannot connect to");
    }

    @Test
    @Order(4)
    void aKilledServerRestartsWithEveryBlueprintAndItsHistory() throws Exception {
        write("survivor.toml", BP.replace("cli-test", "survivor"));
        assertThat(cli("blueprints", "push", "survivor.toml").exit()).isZero();
        assertThat(cli("blueprints", "push", "survivor.toml").exit()).isZero();
        String changesBefore = cli("blueprints", "changes", "survivor").out();

        server.kill();
        assertThat(socket).exists(); // left behind by SIGKILL: the next start must replace it
        System.out.printf("kiln answered /api/status %d ms after its restart%n", server.start());

        assertThat(cli("blueprints", "show", "survivor").out()).contains("version = \"0.0.2\"");
        assertThat(cli("blueprints", "changes", "survivor").out()).isEqualTo(changesBefore);
        assertThat(cli("blueprints", "list").out()).contains("example-http-server", "survivor")
                .doesNotContain("cli-test");
    }
}
