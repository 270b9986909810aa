package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code blueprints freeze [show|save] NAME...}: blueprints with exact package versions. */
@Command(name = "freeze", description = "Show blueprints with the exact versions depsolve chose",
        subcommands = {FreezeCommand.Show.class, FreezeCommand.Save.class})
final class FreezeCommand extends CliCommand {

    @Parameters(arity = "0..*", paramLabel = "BLUEPRINT")
    List<String> names;

    @Override
    int run(Session s) throws IOException {
        if (names == null || names.isEmpty()) {
            s.err.println("ERROR: blueprints freeze needs a blueprint name (or: freeze show|save NAME)");
            return 1;
        }
        JsonNode result = s.getJson("/blueprints/freeze/" + String.join(",", Session.names(names).stream().map(Session::path).toList()));
        if (!s.json) {
            for (JsonNode entry : result.path("blueprints")) {
                JsonNode bp = entry.path("blueprint");
                s.out.println("blueprint: " + bp.path("name").asText() + " v" + bp.path("version").asText());
                for (String key : List.of("modules", "packages")) {
                    bp.path(key).forEach(p -> s.out.println("    " + p.path("name").asText() + "-" + p.path("version").asText()));
                }
            }
        }
        return s.itemErrors(result) ? 1 : 0;
    }

    @Command(name = "show", description = "Print the frozen blueprints as TOML")
    static final class Show extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            s.showToml("/blueprints/freeze/", names);
            return 0;
        }
    }

    @Command(name = "save", description = "Save the frozen blueprints to NAME.frozen.toml")
    static final class Save extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            s.saveToml("/blueprints/freeze/", names, cli().workDir, ".frozen.toml");
            return 0;
        }
    }
}
