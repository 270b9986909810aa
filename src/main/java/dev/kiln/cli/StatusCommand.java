package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;

/** {@code status show}: the server's status, as composer-cli prints it. */
@Command(name = "status", description = "Show the API server status", subcommands = StatusCommand.Show.class)
final class StatusCommand {

    @Command(name = "show", description = "Show the API server status")
    static final class Show extends CliCommand {

        @Override
        int run(Session s) throws IOException {
            JsonNode status = s.checked("GET", "/api/status", s.client.get("/api/status"));
            if (!s.json) {
                s.out.println("API server status:");
                s.out.println("    Database version:   " + status.path("db_version").asText());
                s.out.println("    Database supported: " + (status.path("db_supported").asBoolean() ? "True" : "False"));
                s.out.println("    Schema version:     " + status.path("schema_version").asText());
                s.out.println("    API version:        " + status.path("api").asText());
                s.out.println("    Backend:            " + status.path("backend").asText());
                s.out.println("    Build:              " + status.path("build").asText());
                if (!status.path("msgs").isEmpty()) {
                    s.out.println("Error messages:");
                    status.path("msgs").forEach(m -> s.out.println("    " + m.asText()));
                }
            }
            return 0;
        }
    }
}
