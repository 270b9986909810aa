package dev.kiln.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.testing.DebRepository;
import dev.kiln.testing.LocalPostgres;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.annotation.DirtiesContext;

/**
 * The engine on a real PostgreSQL server ({@code kiln.engine.database-url}): the schema is created there at the
 * first start, composes run and are listed as on H2, and their instances and history are rows of that server.
 */
@ExtendWith(PostgresEngineTest.StopServer.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + PostgresEngineTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + PostgresEngineTest.ROOT + "/apt", "kiln.compose.test-build-seconds=1"})
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class PostgresEngineTest {

    static final String ROOT = "target/it/postgres";
    static final DebRepository REPO = TestServer.freshSmallRepository(ROOT);
    static final LocalPostgres PG;

    static {
        try {
            PG = LocalPostgres.start(Files.createTempDirectory("kiln-pg-"), "kiln");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        // read by EngineEnvironment while the environment is prepared, before any test property source exists
        System.setProperty("kiln.engine.database-url", PG.url("kiln"));
        System.setProperty("kiln.engine.database-user", LocalPostgres.USER);
        System.setProperty("kiln.engine.database-password", PG.password());
    }

    /**
     * Stops the server once Spring has closed the service (the context is dirtied after the class): registered
     * before Spring's extension, its callback runs after Spring's. No process is left behind.
     */
    static final class StopServer implements AfterAllCallback {
        @Override
        public void afterAll(ExtensionContext context) throws InterruptedException {
            System.clearProperty("kiln.engine.database-url");
            System.clearProperty("kiln.engine.database-user");
            System.clearProperty("kiln.engine.database-password");
            PG.close();
            REPO.close();
        }
    }

    @LocalServerPort
    int port;

    @Test
    void composesRunOnPostgresqlAndTheirHistoryIsItsRows() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        server.push(TestServer.SITE);
        String finished = server.start("site", "tar", 2);
        String failed = server.start("site", "tar", 1);
        assertThat(server.await(finished, 60_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(server.await(failed, 60_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
        assertThat(server.get("/api/v1/compose/finished").toString()).contains(finished);
        assertThat(server.get("/api/v1/compose/failed").toString()).contains(failed);
        try (Connection c = DriverManager.getConnection(PG.url("kiln"), LocalPostgres.USER, PG.password());
                ResultSet r = c.createStatement().executeQuery(
                        "select business_key_, end_act_id_ from act_hi_procinst order by start_time_")) {
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo(finished);
            assertThat(r.next()).isTrue();
            assertThat(r.getString(1)).isEqualTo(failed);
            assertThat(r.next()).isFalse();
        }
        assertThat(Files.exists(Path.of(ROOT, "state/engine/operaton.mv.db"))).as("no H2 file").isFalse();
    }

    @Test
    void aDatabaseUrlThatIsNotPostgresqlIsRefusedAtStart() {
        for (String url : new String[] {"jdbc:mysql://h/db", "jdbc:postgresql://h/db\n;x", "file:/etc/passwd"}) {
            StandardEnvironment env = new StandardEnvironment();
            env.getPropertySources().addFirst(new MapPropertySource("t", Map.of("kiln.engine.database-url", url)));
            assertThatThrownBy(() -> EngineEnvironment.database(env, Path.of(ROOT, "x")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PostgreSQL JDBC URL");
        }
    }
}
