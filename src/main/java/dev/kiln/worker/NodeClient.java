package dev.kiln.worker;

import dev.kiln.store.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.camunda.bpm.client.UrlResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nodes a worker talks to, over HTTP with the API token: one at a time, the next one when it stops answering
 * (nodes share the engine's database and the state directory, so any of them serves any task). It is also the
 * external-task client's {@link UrlResolver}, so fetching, locking and completing follow the same node.
 */
final class NodeClient implements UrlResolver {

    private static final Logger log = LoggerFactory.getLogger(NodeClient.class);
    private final List<URI> nodes;
    private final String token;
    private final AtomicInteger current = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A node answered, but not with success: what it said. */
    static final class NodeException extends IOException {
        final int status;

        NodeException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    NodeClient(List<URI> nodes, String token) {
        this.nodes = List.copyOf(nodes);
        this.token = token;
    }

    @Override
    public String getBaseUrl() {
        return node() + "/engine-rest";
    }

    String node() {
        return nodes.get(current.get() % nodes.size()).toString();
    }

    /** The current node did not answer: use the next one (called by the fetch loop's back-off and by calls here). */
    void failover(String why) {
        if (nodes.size() > 1) {
            int was = current.getAndIncrement();
            log.warn("node {} does not answer ({}); using {}", nodes.get(was % nodes.size()), why, node());
        }
    }

    String authorization() {
        return "Bearer " + token;
    }

    /** Fetches one of the compose's files into {@code target} (atomically); false when the node has none. */
    boolean download(String task, String worker, String name, Path target) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = send(b -> b.GET(), route(task, worker, "input/" + name), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() == 404) {
                return false;
            }
            if (r.statusCode() != 200) {
                throw new NodeException(r.statusCode(), new String(in.readNBytes(4096), StandardCharsets.UTF_8));
            }
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".download-", ".tmp");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return true;
        }
    }

    void post(String task, String worker, String what, String body) throws IOException, InterruptedException {
        expectOk(send(b -> b.POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)),
                route(task, worker, what), HttpResponse.BodyHandlers.ofString()));
    }

    void putFile(String task, String worker, String what, Path file) throws IOException, InterruptedException {
        expectOk(send(b -> {
            try {
                return b.PUT(HttpRequest.BodyPublishers.ofFile(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, route(task, worker, what), HttpResponse.BodyHandlers.ofString()));
    }

    /** Streams the image to the node with its SHA-256, which the node checks before renaming it into place. */
    void upload(String task, String worker, Path image) throws IOException, InterruptedException {
        String sha256 = AtomicFiles.sha256(image);
        putFile(task, worker, "image?sha256=" + sha256, image);
    }

    /** Whether the current node answers its engine's REST API with our token. */
    boolean ping() {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create(getBaseUrl() + "/engine"))
                    .header("Authorization", authorization()).timeout(Duration.ofSeconds(5)).GET().build();
            return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private interface Method {
        HttpRequest.Builder apply(HttpRequest.Builder b);
    }

    private static String route(String task, String worker, String what) {
        String sep = what.contains("?") ? "&" : "?";
        return "/api/kiln/worker/" + URLEncoder.encode(task, StandardCharsets.UTF_8) + "/" + what + sep + "worker="
                + URLEncoder.encode(worker, StandardCharsets.UTF_8);
    }

    /** Sends to the current node; a node that does not answer is passed over for the next (each tried once). */
    private <T> HttpResponse<T> send(Method method, String path, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        IOException last = null;
        for (int i = 0; i < nodes.size(); i++) {
            HttpRequest request = method.apply(HttpRequest.newBuilder(URI.create(node() + path))
                    .header("Authorization", authorization()).timeout(Duration.ofMinutes(30))).build();
            try {
                return http.send(request, body);
            } catch (IOException e) {
                last = e;
                failover(e.toString());
            }
        }
        throw last;
    }

    private static void expectOk(HttpResponse<String> r) throws NodeException {
        if (r.statusCode() != 200) {
            throw new NodeException(r.statusCode(), r.body().length() > 2000 ? r.body().substring(0, 2000) : r.body());
        }
    }
}
