package dev.kiln.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * A real Debian repository for tests: {@code .deb} files built with dpkg-deb, a Packages index made by
 * dpkg-scanpackages, a Release file with SHA256 sums, signed by gpg with a throw-away key, served over HTTP on
 * loopback. Counts requests per path so tests can see what was downloaded.
 */
public final class DebRepository implements AutoCloseable {

    public final Path root;
    public final Path keyring;
    /** The suite {@link #add} and {@link #publish} are for; {@code stable} unless {@link #suite(String)} changed it. */
    public String suite = "stable";
    private String pool;
    private final Path gnupg;
    private final List<String> stanzas = new ArrayList<>();
    private HttpServer server;
    public final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();

    public DebRepository(Path dir) throws IOException, InterruptedException {
        this.root = Files.createDirectories(dir.resolve("repo"));
        this.gnupg = Files.createDirectories(dir.resolve("gnupg"));
        Files.setPosixFilePermissions(gnupg, PosixFilePermissions.fromString("rwx------"));
        killAgent(); // an agent an interrupted run left for this directory answers for a keyring that is gone
        run(dir, "gpg", "--homedir", gnupg.toString(), "--batch", "--passphrase", "", "--quick-gen-key",
                "Kiln Test Repository <repo@kiln.test>", "rsa2048", "sign", "never");
        this.keyring = dir.resolve("repo-key.gpg");
        run(dir, "gpg", "--homedir", gnupg.toString(), "--batch", "--output", keyring.toString(), "--export");
    }

    /**
     * From now on, adds and publishes for {@code name}: its packages in {@code pool/<name>}, its index at
     * {@code dists/<name>}, so that one repository serves suites of different content (a release per suite).
     */
    public DebRepository suite(String name) {
        this.suite = name;
        this.pool = "pool/" + name;
        return this;
    }

    /**
     * Adds a package built with dpkg-deb. {@code fields} are extra control fields ("Depends: a | b"); {@code files}
     * maps paths in the package to their content; {@code postinst} (may be null) becomes the maintainer script.
     */
    public DebRepository add(String name, String version, List<String> fields, Map<String, String> files,
            String postinst) throws IOException, InterruptedException {
        Path build = Files.createTempDirectory(root.getParent(), "build-");
        Path debian = Files.createDirectories(build.resolve("DEBIAN"));
        StringBuilder control = new StringBuilder("Package: " + name + "\nVersion: " + version
                + "\nArchitecture: amd64\nMaintainer: Kiln Tests <tests@kiln.test>\n");
        if (fields.stream().noneMatch(f -> f.startsWith("Priority:"))) {
            control.append("Priority: optional\n");
        }
        fields.forEach(f -> control.append(f).append('\n'));
        control.append("Description: test package ").append(name).append("\n Built by the Kiln tests.\n");
        Files.writeString(debian.resolve("control"), control.toString());
        if (postinst != null) {
            Path script = Files.writeString(debian.resolve("postinst"), postinst);
            script.toFile().setExecutable(true, false);
        }
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path target = build.resolve(f.getKey().replaceFirst("^/", ""));
            Files.createDirectories(target.getParent());
            Files.writeString(target, f.getValue());
        }
        Path pool = Files.createDirectories(root.resolve(this.pool == null ? "pool/main" : this.pool));
        run(root, "dpkg-deb", "--root-owner-group", "-Zxz", "--build", build.toString(),
                pool.resolve(name + "_" + version.replace(':', '%') + "_amd64.deb").toString());
        return this;
    }

    public DebRepository add(String name, String version, String... fields) throws IOException, InterruptedException {
        return add(name, version, List.of(fields), Map.of("/usr/share/doc/" + name + "/README", name + "\n"), null);
    }

    /** Extra fields for the Release file, each line ending in a newline (e.g. {@code Valid-Until: …}). */
    public String releaseFields = "";

    /** Writes the index, the Release file and its signatures; call after the last {@link #add}. */
    public DebRepository publish() throws IOException, InterruptedException {
        Path dists = Files.createDirectories(root.resolve("dists/" + suite + "/main/binary-amd64"));
        String packages = run(root, "dpkg-scanpackages", "--multiversion", pool == null ? "pool" : pool);
        byte[] plain = packages.getBytes(StandardCharsets.UTF_8);
        Files.write(dists.resolve("Packages"), plain);
        try (OutputStream out = new XZOutputStream(Files.newOutputStream(dists.resolve("Packages.xz")), new LZMA2Options())) {
            out.write(plain);
        }
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(dists.resolve("Packages.gz")))) {
            out.write(plain);
        }
        StringBuilder release = new StringBuilder("Origin: Kiln tests\nSuite: " + suite + "\nCodename: " + suite
                + "\nArchitectures: amd64\nComponents: main\nDate: Thu, 01 Jan 2026 00:00:00 UTC\n" + releaseFields + "SHA256:\n");
        for (String f : List.of("Packages", "Packages.xz", "Packages.gz")) {
            Path p = dists.resolve(f);
            release.append(' ').append(sha256(p)).append(' ').append(Files.size(p)).append(" main/binary-amd64/")
                    .append(f).append('\n');
        }
        Path dir = root.resolve("dists/" + suite);
        Files.writeString(dir.resolve("Release"), release.toString());
        Files.deleteIfExists(dir.resolve("InRelease"));
        Files.deleteIfExists(dir.resolve("Release.gpg"));
        run(dir, "gpg", "--homedir", gnupg.toString(), "--batch", "--yes", "--clearsign", "--output", "InRelease", "Release");
        run(dir, "gpg", "--homedir", gnupg.toString(), "--batch", "--yes", "--armor", "--detach-sign", "--output",
                "Release.gpg", "Release");
        return this;
    }

    /** Starts serving on a free loopback port; the URL is {@link #url()}. */
    public DebRepository serve() throws IOException {
        return serve("127.0.0.1");
    }

    /** Starts serving on a free port of {@code address} (one of this machine's). */
    public DebRepository serve(String address) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, k -> new AtomicInteger()).incrementAndGet();
            Path file = root.resolve(path.substring(1)).normalize();
            if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            exchange.sendResponseHeaders(200, Files.size(file));
            try (OutputStream out = exchange.getResponseBody(); InputStream in = Files.newInputStream(file)) {
                in.transferTo(out);
            }
        });
        server.start();
        return this;
    }

    public String url() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort() + "/";
    }

    public int requestsFor(String suffix) {
        return requests.entrySet().stream().filter(e -> e.getKey().endsWith(suffix)).mapToInt(e -> e.getValue().get()).sum();
    }

    /** A deb822 {@code .sources} stanza for this repository, signed by its key. */
    public String sourcesStanza() {
        return "Types: deb\nURIs: " + url() + "\nSuites: " + suite + "\nComponents: main\nSigned-By: " + keyring + "\n";
    }

    public void stop() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    @Override
    public void close() {
        stop();
        try {
            killAgent();
        } catch (IOException | InterruptedException e) {
            // the agent may be gone already
        }
    }

    private void killAgent() throws IOException, InterruptedException {
        new ProcessBuilder("gpgconf", "--homedir", gnupg.toString(), "--kill", "gpg-agent")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    /** A file's SHA-256, read as a stream (disk images are larger than an array can be). */
    public static String sha256(Path file) throws IOException {
        return dev.kiln.store.AtomicFiles.sha256(file);
    }

    /** Runs a tool, failing the test with its output if it fails; answers its standard output. */
    public static String run(Path dir, String... command) throws IOException, InterruptedException {
        Path err = Files.createTempFile("kiln-test-tool", ".err");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectError(ProcessBuilder.Redirect.to(err.toFile())).start();
            String out;
            try (InputStream stdout = p.getInputStream()) {
                out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + Files.readString(err));
            }
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
