package dev.kiln.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A local mirror of the host's Debian repositories for machines that reach only the test's own addresses (a
 * worker in a network namespace): an HTTP server on one of this machine's addresses that passes each GET on to
 * the host's real repository, unchanged (the metadata stays signed by Debian, the packages keep their checksums),
 * as apt-cacher-ng or a site mirror would. {@link #aptDir} writes the host's sources with their URIs pointed here.
 */
public final class MirrorProxy implements AutoCloseable {

    private static final Pattern URI_TEXT = Pattern.compile("https?://[^\\s\\]]+");
    private final HttpServer server;
    private final List<String> upstreams = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20)).build();

    public MirrorProxy(String address) throws IOException {
        server = HttpServer.create(new InetSocketAddress(address, 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", exchange -> {
            try (exchange) {
                String path = exchange.getRequestURI().getRawPath();
                Matcher m = Pattern.compile("/(\\d+)(/.*)").matcher(path);
                if (!m.matches() || Integer.parseInt(m.group(1)) >= upstreams.size() || path.contains("..")) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                HttpRequest request = HttpRequest.newBuilder(URI.create(upstreams.get(Integer.parseInt(m.group(1)))
                        + m.group(2))).timeout(Duration.ofMinutes(5)).GET().build();
                HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    long length = r.headers().firstValueAsLong("Content-Length").orElse(0);
                    exchange.sendResponseHeaders(r.statusCode(), r.statusCode() == 200 && length > 0 ? length : 0);
                    try (OutputStream out = exchange.getResponseBody()) {
                        in.transferTo(out);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
    }

    public String url() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    /**
     * An apt configuration at {@code root/apt}: the host's own sources with every repository URI pointed at this
     * mirror, and {@code repo}'s stanza.
     */
    public Path aptDir(Path root, DebRepository repo) throws IOException {
        Path apt = TestServer.aptDir(root, repo);
        Path lists = apt.resolve("sources.list.d");
        try (Stream<Path> files = Files.list(Path.of("/etc/apt/sources.list.d"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".sources") || f.toString().endsWith(".list")).toList()) {
                Files.writeString(lists.resolve("host-" + f.getFileName()), mirrored(Files.readString(f)));
            }
        }
        if (Files.exists(Path.of("/etc/apt/sources.list"))) {
            Files.writeString(apt.resolve("sources.list"), mirrored(Files.readString(Path.of("/etc/apt/sources.list"))));
        }
        return apt;
    }

    private synchronized String mirrored(String sources) {
        StringBuilder out = new StringBuilder();
        for (String line : sources.split("\n", -1)) {
            if (line.strip().startsWith("#")) {
                out.append(line).append('\n');
                continue;
            }
            Matcher m = URI_TEXT.matcher(line);
            StringBuilder l = new StringBuilder();
            while (m.find()) {
                String upstream = m.group().replaceAll("/+$", "");
                int i = upstreams.indexOf(upstream);
                if (i < 0) {
                    upstreams.add(upstream);
                    i = upstreams.size() - 1;
                }
                m.appendReplacement(l, Matcher.quoteReplacement(url() + "/" + i));
            }
            m.appendTail(l);
            out.append(l).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
