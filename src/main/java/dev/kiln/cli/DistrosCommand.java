package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code distros list}: the distributions the server builds, one per line (as the Go composer-cli prints them). */
@Command(name = "distros", description = "List the distributions the server builds", subcommands = DistrosCommand.ListCmd.class)
final class DistrosCommand {

    @Command(name = "list", description = "List the distributions the server builds")
    static final class ListCmd extends CliCommand {
        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.getJson("/distros/list");
            if (!s.json) {
                result.path("distros").forEach(d -> s.out.println(d.asText()));
            }
            return 0;
        }
    }

    /** The {@code --distro} of {@code compose types}, {@code projects} and {@code modules} (the Go client's flag). */
    static final class Choice {
        @Option(names = "--distro", paramLabel = "DISTRO", description = "For this distribution (default: the server's)")
        String distro;

        /** The query parameter to add after {@code separator} ({@code ?} or {@code &}), or nothing. */
        String query(char separator) {
            return distro == null || distro.isEmpty() ? "" : separator + "distro=" + Session.path(distro);
        }
    }
}
