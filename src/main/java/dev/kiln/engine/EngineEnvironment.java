package dev.kiln.engine;

import dev.kiln.KilnProperties;
import dev.kiln.store.AtomicFiles;
import dev.kiln.store.StatePermissions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Points the embedded engine at the state directory before anything starts: the H2 file database under
 * {@code <state>/engine/} and an admin user whose password is generated at first start and kept (mode 0600) in
 * {@code <state>/engine/admin-password}, never a default one.
 */
public class EngineEnvironment implements EnvironmentPostProcessor {

    static final String ADMIN_USER = "admin";
    /** Set by {@code kiln worker}, whose Spring context has no engine and no state directory of a service. */
    public static final String WORKER_PROPERTY = "kiln.worker.engine";
    static final String PASSWORD_FILE = "admin-password";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        if (env.containsProperty(WORKER_PROPERTY)) { // kiln worker: no engine here, its state is its own
            return;
        }
        Path stateDir = Path.of(env.getProperty("kiln.state-dir", KilnProperties.DEFAULT_STATE_DIR)).toAbsolutePath();
        String node = env.getProperty("kiln.node-dir", "");
        Path nodeDir = node.isBlank() ? stateDir : Path.of(node).toAbsolutePath();
        Path engineDir = stateDir.resolve("engine");
        try {
            StatePermissions.apply(stateDir);
            StatePermissions.applyNode(nodeDir);
            String password = adminPassword(engineDir.resolve(PASSWORD_FILE));
            Map<String, Object> db = database(env, engineDir);
            env.getPropertySources().addLast(new MapPropertySource("kiln-engine", Map.of(
                    "spring.datasource.url", db.get("url"),
                    "spring.datasource.username", db.get("user"),
                    "spring.datasource.password", db.get("password"),
                    // Tomcat's work files in the state directory, not a new /tmp/tomcat.* that a kill -9 leaves behind
                    "server.tomcat.basedir", nodeDir.resolve("tomcat").toString(),
                    "operaton.bpm.admin-user.id", ADMIN_USER,
                    "operaton.bpm.admin-user.password", password,
                    // no permanent lockout: the engine's delay after failed logins (up to 60 s) stays
                    "operaton.bpm.generic-properties.properties.loginMaxAttempts", String.valueOf(Integer.MAX_VALUE))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the state directory " + stateDir, e);
        }
    }

    /**
     * The engine's database: PostgreSQL when {@code kiln.engine.database-url} names one (with
     * {@code kiln.engine.database-user} and {@code kiln.engine.database-password}), where several nodes share the
     * engine; else the embedded H2 file under {@code <state>/engine/}. WRITE_DELAY=0: H2 otherwise keeps the last
     * half second of commits in memory, and a kill -9 loses them (a compose submitted just before would vanish).
     */
    static Map<String, Object> database(ConfigurableEnvironment env, Path engineDir) {
        String url = env.getProperty("kiln.engine.database-url", "").strip();
        if (url.isEmpty()) {
            return Map.of("url", "jdbc:h2:file:" + engineDir.resolve("operaton") + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0",
                    "user", "sa", "password", "");
        }
        if (!url.startsWith("jdbc:postgresql://") || url.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            throw new IllegalArgumentException("kiln.engine.database-url must be a PostgreSQL JDBC URL "
                    + "(jdbc:postgresql://HOST[:PORT]/DATABASE), not " + url.replaceAll("\\p{Cntrl}", "?"));
        }
        return Map.of("url", url, "user", env.getProperty("kiln.engine.database-user", "kiln"),
                "password", env.getProperty("kiln.engine.database-password", ""));
    }

    /** Reads the stored admin password, creating it (0600, made whole under its name at once) if absent. */
    static String adminPassword(Path file) throws IOException {
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        }
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        // nodes sharing the state directory start together: the first one's password is the one kept
        AtomicFiles.writeNew(file, Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n",
                PosixFilePermissions.fromString("rw-------"));
        String password = Files.readString(file, StandardCharsets.UTF_8).strip();
        return password;
    }
}
