package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;

/** {@code admin unlock}: local administration of the service (Kiln's own; composer-cli has no such command). */
@Command(name = "admin", description = "Administer the service", subcommands = AdminCommand.Unlock.class)
final class AdminCommand {

    @Command(name = "unlock", description = "Clear the failed-login count of Cockpit's admin user")
    static final class Unlock extends CliCommand {

        @Override
        int run(Session s) throws IOException {
            JsonNode r = s.checked("POST", "/api/kiln/admin/unlock", s.client.post("/api/kiln/admin/unlock", "application/json", new byte[0]));
            if (!s.json) {
                s.out.println("admin unlocked: " + r.path("user").asText());
            }
            return 0;
        }
    }
}
