package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code modules list [names]}: module (package) names, one per line. */
@Command(name = "modules", description = "List modules", subcommands = ModulesCommand.ListCmd.class)
final class ModulesCommand {

    @Command(name = "list", description = "List the modules, optionally only those matching names or globs")
    static final class ListCmd extends CliCommand {
        @Parameters(arity = "0..*", paramLabel = "NAME")
        List<String> names;
        @Mixin
        DistrosCommand.Choice distro;

        @Override
        int run(Session s) throws IOException {
            String route = names == null || names.isEmpty() ? "/modules/list"
                    : "/modules/list/" + String.join(",", Session.names(names).stream().map(Session::path).toList());
            int total = s.probe(route + "?limit=0" + distro.query('&')).path("total").asInt();
            JsonNode all = s.getJson(route + "?limit=" + total + distro.query('&'));
            if (!s.json) {
                all.path("modules").forEach(m -> s.out.println(m.path("name").asText()));
            }
            return 0;
        }
    }
}
