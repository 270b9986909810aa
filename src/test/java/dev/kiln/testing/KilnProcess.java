package dev.kiln.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The service as its own process, started as {@code java -jar kiln.jar} would start it, on loopback TCP. */
public final class KilnProcess implements AutoCloseable {

    private final Path log;
    private final List<String> command;
    public final int port;
    /** The address the server's TCP listener binds ({@code kiln.api.address}), loopback unless said otherwise. */
    public final String host;
    private final Path stateDir;
    private Process process;

    private final Map<String, String> environment = new HashMap<>();

    /** The service run from the test's class path, with a small heap and C1 only (quick to start, as tests want). */
    public KilnProcess(Path root, String... properties) throws IOException {
        this(root, null, properties);
    }

    /**
     * The service as a user runs it: {@code bin/kiln-service} on the packaged {@code target/kiln.jar}, its JVM and
     * defaults, without a class archive (which only changes how fast it starts). For benches.
     */
    public static KilnProcess asInstalled(Path root, String... properties) throws IOException {
        return new KilnProcess(root, Path.of("target/kiln.jar"), properties);
    }

    private KilnProcess(Path root, Path jar, String... properties) throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            this.port = s.getLocalPort();
        }
        this.log = root.resolve("server.log");
        if (jar == null) {
            command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-XX:TieredStopAtLevel=1", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                    "dev.kiln.Main", "--kiln.api.port=" + port));
        } else {
            command = new ArrayList<>(List.of("sh", "bin/kiln-service", "--kiln.api.port=" + port));
            environment.put("KILN_JAR", jar.toAbsolutePath().toString());
            environment.put("KILN_CDS", "0");
        }
        Path state = root.resolve("state");
        String address = "127.0.0.1";
        for (String p : properties) {
            if (p.startsWith("kiln.api.address=")) {
                address = p.substring("kiln.api.address=".length());
            }
            command.add("--" + p);
            if (p.startsWith("kiln.state-dir=")) {
                state = Path.of(p.substring("kiln.state-dir=".length()));
            }
        }
        this.stateDir = state;
        this.host = address;
    }

    /** The server's base URL on TCP. */
    public String url() {
        return "http://" + host + ":" + port;
    }

    /** A client of this server's Weldr API on TCP, with its token. */
    public TestServer client() {
        return new TestServer(url(), stateDir);
    }

    /** The server's state directory (its API token is there). */
    public Path stateDir() {
        return stateDir;
    }

    /** Starts the server and waits until {@code /api/status} answers; answers the milliseconds that took. */
    public long start() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(environment);
        process = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("server exited: " + Files.readString(log));
            }
            try {
                if (Files.exists(stateDir.resolve("api-token")) && http.send(TestServer.request(url(), stateDir,
                        "/api/status").build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return (System.nanoTime() - t0) / 1_000_000;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        throw new AssertionError("server did not answer in time: " + Files.readString(log));
    }

    /** The server's output so far. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    /** SIGKILL: no shutdown hook, no cleanup. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** The server's process id (its in-process workers name themselves kiln-PID@HOST-…). */
    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        if (alive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
