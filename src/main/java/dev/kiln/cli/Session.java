package dev.kiln.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** One CLI run's connection to the server, with composer-cli's error reporting and {@code --json} printing. */
final class Session {

    /** Decimals stay decimals (the server's 1795882697.53 is printed back as it came, not as 1.79588269753E9). */
    static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();

    final WeldrClient client;
    final String prefix;
    final boolean json;
    final PrintStream out;
    final PrintStream err;
    private final ArrayNode exchanges = JSON.createArrayNode();

    Session(WeldrClient client, String prefix, boolean json, PrintStream out, PrintStream err) {
        this.client = client;
        this.prefix = prefix;
        this.json = json;
        this.out = out;
        this.err = err;
    }

    /** Failure already reported to the user; the command exits 1. */
    static final class Failed extends RuntimeException {
        Failed() {
            super(null, null, false, false);
        }
    }

    /** GET a JSON route; prints it with --json; fails (after printing the server's errors) on status false. */
    JsonNode getJson(String route) throws IOException {
        return checked("GET", route, client.get(prefix + route));
    }

    /** GET a JSON route without printing it (composer-cli's {@code ?limit=0} probe for totals). */
    JsonNode probe(String route) throws IOException {
        WeldrClient.Response response = client.get(prefix + route);
        JsonNode node = parse(response);
        reportErrors(node, response.status());
        return node;
    }

    /** As {@link #getJson}, for one of Kiln's own routes ({@code /api/kiln/…}: no Weldr version prefix). */
    JsonNode getKiln(String path) throws IOException {
        return checked("GET", path, client.get(path));
    }

    /** As {@link #probe}, for one of Kiln's own routes ({@code /api/kiln/…}: no Weldr version prefix). */
    JsonNode probeKiln(String path) throws IOException {
        WeldrClient.Response response = client.get(path);
        JsonNode node = parse(response);
        reportErrors(node, response.status());
        return node;
    }

    JsonNode deleteJson(String route) throws IOException {
        return checked("DELETE", route, client.delete(prefix + route));
    }

    JsonNode postJson(String route, String contentType, byte[] body) throws IOException {
        return checked("POST", route, client.post(prefix + route, contentType, body));
    }

    /**
     * With {@code --json}, every request and its answer are kept and printed as one JSON document when the command
     * ends ({@link #printJson}), as the Go composer-cli prints them: a list of {@code {"method", "path", "status",
     * "body"}}; never several documents one after the other.
     */
    JsonNode checked(String method, String route, WeldrClient.Response response) throws IOException {
        JsonNode node = parse(response);
        if (json) {
            ObjectNode record = JSON.createObjectNode();
            record.put("method", method);
            record.put("path", route);
            record.put("status", response.status());
            record.set("body", node);
            exchanges.add(record);
        }
        reportErrors(node, response.status());
        return node;
    }

    /** Prints what {@code --json} kept (nothing without it). */
    void printJson() throws IOException {
        if (json) {
            out.println(JSON.writeValueAsString(exchanges));
            exchanges.removeAll();
        }
    }

    /** GET a text route (TOML); a JSON error envelope instead of text fails the command. */
    String getText(String route) throws IOException {
        WeldrClient.Response response = client.get(prefix + route);
        if (response.status() >= 400) {
            reportErrors(parse(response), response.status());
        }
        return response.text();
    }

    /** Prints each blueprint as TOML from {@code route + NAME}, two newlines after each (composer-cli's show). */
    void showToml(String route, List<String> names) throws IOException {
        for (String name : names(names)) {
            out.print(getText(route + path(name) + "?format=toml") + "\n\n");
        }
    }

    /** Saves each blueprint's TOML from {@code route + NAME} as {@code NAME<suffix>} in {@code dir}. */
    void saveToml(String route, List<String> names, Path dir, String suffix) throws IOException {
        for (String name : names(names)) {
            String toml = getText(route + path(name) + "?format=toml");
            Files.writeString(dir.resolve(name.replace(' ', '-').replace('/', '-') + suffix), toml);
        }
    }

    private JsonNode parse(WeldrClient.Response response) throws IOException {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            if (response.status() >= 400) {
                err.println("ERROR: HTTP " + response.status() + ": " + response.text().strip());
                throw new Failed();
            }
            throw new IOException("the server did not answer with JSON: " + e.getMessage());
        }
    }

    private void reportErrors(JsonNode node, int status) {
        boolean failed = node.path("status").isBoolean() && !node.path("status").asBoolean() || status >= 400;
        if (!failed) {
            return;
        }
        if (!json) {
            for (JsonNode error : node.path("errors")) {
                err.println("ERROR: " + error.path("id").asText() + ": " + error.path("msg").asText());
            }
            if (node.path("errors").isEmpty()) {
                err.println("ERROR: HTTP " + status);
            }
        }
        throw new Failed();
    }

    /** Prints errors that a 200 answer lists per item (unknown blueprints and the like) and says if any came. */
    boolean itemErrors(JsonNode node) {
        boolean any = false;
        for (JsonNode error : node.path("errors")) {
            if (!json) {
                err.println("ERROR: " + error.path("id").asText() + ": " + error.path("msg").asText());
            }
            any = true;
        }
        return any;
    }

    /** composer-cli accepts names separated by commas, spaces or both. */
    static List<String> names(List<String> args) {
        List<String> names = new ArrayList<>();
        for (String arg : args) {
            Arrays.stream(arg.split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(names::add);
        }
        return names;
    }

    static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
