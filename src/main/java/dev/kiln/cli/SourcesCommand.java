package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code sources list|info|add|change|delete}, as composer-cli. */
@Command(name = "sources", description = "Manage package sources", subcommands = {SourcesCommand.ListCmd.class,
        SourcesCommand.Info.class, SourcesCommand.Add.class, SourcesCommand.Change.class, SourcesCommand.Delete.class})
final class SourcesCommand {

    @Command(name = "list", description = "List the available sources")
    static final class ListCmd extends CliCommand {
        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.getJson("/projects/source/list");
            if (!s.json) {
                result.path("sources").forEach(n -> s.out.println(n.asText()));
            }
            return 0;
        }
    }

    @Command(name = "info", description = "Show the sources' details (TOML)")
    static final class Info extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "SOURCE")
        List<String> ids;

        @Override
        int run(Session s) throws IOException {
            String list = String.join(",", Session.names(ids).stream().map(Session::path).toList());
            if (s.json) {
                return s.itemErrors(s.getJson("/projects/source/info/" + list)) ? 1 : 0;
            }
            s.out.print(s.getText("/projects/source/info/" + list + "?format=toml"));
            return 0;
        }
    }

    /** Posts a source TOML file. */
    abstract static class Post extends CliCommand {
        @Parameters(index = "0", paramLabel = "SOURCE.TOML")
        Path file;

        @Override
        int run(Session s) throws IOException {
            s.postJson("/projects/source/new", "text/x-toml", Files.readAllBytes(cli().workDir.resolve(file)));
            return 0;
        }
    }

    @Command(name = "add", description = "Add a source from a TOML file")
    static final class Add extends Post {
    }

    @Command(name = "change", description = "Replace a source from a TOML file")
    static final class Change extends Post {
    }

    @Command(name = "delete", description = "Delete a source")
    static final class Delete extends CliCommand {
        @Parameters(index = "0", paramLabel = "SOURCE")
        String id;

        @Override
        int run(Session s) throws IOException {
            s.deleteJson("/projects/source/delete/" + Session.path(id));
            return 0;
        }
    }
}
