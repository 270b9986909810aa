package dev.kiln.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.cli.WeldrClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A test's client of a server's Weldr API on its unix socket, answering the JSON bodies. */
public final class SocketApi {

    public final WeldrClient client;

    public SocketApi(Path socket) {
        this.client = new WeldrClient(socket.toAbsolutePath().toString(), null);
    }

    public JsonNode get(String path) throws IOException {
        return TestServer.JSON.readTree(client.get(path).text());
    }

    /** A request with a JSON body, or none when {@code body} is null. */
    public JsonNode send(String method, String path, String body) throws IOException {
        return TestServer.JSON.readTree(client.send(method, path, body == null ? null : "application/json",
                body == null ? null : body.getBytes(StandardCharsets.UTF_8)).text());
    }
}
