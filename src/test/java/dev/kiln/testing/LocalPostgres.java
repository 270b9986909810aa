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

/**
 * A real PostgreSQL server of the test's own: Debian's server binaries ({@code postgresql}, installed by
 * scripts/setup), a cluster made by {@code initdb} in a directory of the test, listening on loopback only, on a free
 * port, stopped when the test ends. As root, the cluster belongs to the {@code postgres} account (PostgreSQL will not
 * run as root).
 */
public final class LocalPostgres implements AutoCloseable {

    public static final String USER = "kiln";
    private final Path dir;
    private final Process server;
    public final int port;

    private LocalPostgres(Path dir, Process server, int port) {
        this.dir = dir;
        this.server = server;
        this.port = port;
    }

    /** Starts a new cluster in {@code dir} (made empty) and creates {@code database} in it. */
    public static LocalPostgres start(Path dir, String database) throws IOException, InterruptedException {
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
        LocalPostgres pg = new LocalPostgres(dir, server, port);
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
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
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
        server.destroy(); // SIGTERM: a smart shutdown
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        FileSystemUtils.deleteRecursively(dir.toFile());
    }
}
