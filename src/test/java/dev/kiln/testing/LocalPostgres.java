package dev.kiln.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.springframework.util.FileSystemUtils;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

/**
 * A real PostgreSQL server of the test's own, the one database fixture of the tests: Testcontainers' PostgreSQL
 * where a Docker engine answers (developers' machines), else Debian's server binaries ({@code postgresql}, installed
 * by scripts/setup) with a cluster made by {@code initdb} in a directory of the test, listening on loopback only, on
 * a free port (here and in CI). Either way the same tests run against it; {@code KILN_TEST_POSTGRES=debian} or
 * {@code =container} chooses. Stopped when the test ends. As root, the Debian cluster belongs to the
 * {@code postgres} account (PostgreSQL will not run as root).
 */
public final class LocalPostgres implements AutoCloseable {

    public static final String USER = "kiln";
    private final Path dir;
    private final Process server;
    private final PostgreSQLContainer<?> container;
    public final String host;
    public final int port;
    private final String password;

    private LocalPostgres(Path dir, Process server, PostgreSQLContainer<?> container, String host, int port,
            String password) {
        this.dir = dir;
        this.server = server;
        this.container = container;
        this.host = host;
        this.port = port;
        this.password = password;
    }

    /** The password of {@link #USER} (the Debian cluster trusts loopback: empty). */
    public String password() {
        return password;
    }

    /** What provides the server: {@code container} or {@code debian}. */
    public String kind() {
        return container != null ? "container" : "debian";
    }

    /**
     * Starts a server with {@code database} in it: in a container when Docker answers (or
     * {@code KILN_TEST_POSTGRES=container}), else a new Debian cluster in {@code dir} (made empty).
     */
    public static LocalPostgres start(Path dir, String database) throws IOException, InterruptedException {
        String choice = System.getenv().getOrDefault("KILN_TEST_POSTGRES", "");
        if (choice.equals("container") || (!choice.equals("debian") && dockerAnswers())) {
            PostgreSQLContainer<?> c = new PostgreSQLContainer<>("postgres:15").withDatabaseName(database)
                    .withUsername(USER).withPassword("kiln-test");
            c.start();
            return new LocalPostgres(dir, null, c, c.getHost(), c.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT),
                    "kiln-test");
        }
        return startDebian(dir, database);
    }

    private static boolean dockerAnswers() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static LocalPostgres startDebian(Path dir, String database) throws IOException, InterruptedException {
        Path bin = binaries();
        FileSystemUtils.deleteRecursively(dir);
        Files.createDirectories(dir);
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            run(List.of("chown", "postgres:postgres", dir.toString()));
        }
        Path data = dir.resolve("data");
        run(as(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "-A", "trust",
                "-E", "UTF8", "--no-sync")));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process server = new ProcessBuilder(as(root, List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                "-p", String.valueOf(port), "-k", dir.toString(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")))
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
        LocalPostgres pg = new LocalPostgres(dir, server, null, "127.0.0.1", port, "");
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try (Connection c = DriverManager.getConnection(pg.url("postgres"), USER, "")) {
                c.createStatement().execute("CREATE DATABASE " + database);
                return pg;
            } catch (SQLException notYet) {
                if (!server.isAlive() || System.currentTimeMillis() > deadline) {
                    pg.close();
                    throw new IOException("PostgreSQL did not start: " + Files.readString(dir.resolve("server.log")),
                            notYet);
                }
                Thread.sleep(200);
            }
        }
    }

    /** The JDBC URL of a database of this server. */
    public String url(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The newest server binaries Debian installed. */
    static Path binaries() throws IOException {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            throw new IOException("no PostgreSQL server here: apt-get install postgresql (scripts/setup does)");
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions.filter(v -> Files.isExecutable(v.resolve("bin/postgres")))
                    .max(Comparator.comparing(v -> Integer.parseInt(v.getFileName().toString().replaceAll("\\D", "0"))))
                    .orElseThrow(() -> new IOException("no PostgreSQL server binaries under " + base)).resolve("bin");
        }
    }

    private static List<String> as(boolean root, List<String> command) {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
        }
        full.addAll(command);
        return full;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (container != null) {
            container.stop();
            return;
        }
        server.destroy(); // SIGTERM: a smart shutdown
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        FileSystemUtils.deleteRecursively(dir.toFile());
    }
}
