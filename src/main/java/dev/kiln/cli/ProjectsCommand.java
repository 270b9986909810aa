package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code projects list|info} and {@code modules list}, as composer-cli prints them. */
@Command(name = "projects", description = "Show the packages of the enabled sources",
        subcommands = {ProjectsCommand.ListCmd.class, ProjectsCommand.Info.class})
final class ProjectsCommand {

    @Command(name = "list", description = "List every package")
    static final class ListCmd extends CliCommand {
        @Mixin
        DistrosCommand.Choice distro;

        @Override
        int run(Session s) throws IOException {
            int total = s.probe("/projects/list?limit=0" + distro.query('&')).path("total").asInt();
            JsonNode all = s.getJson("/projects/list?limit=" + total + distro.query('&'));
            if (!s.json) {
                all.path("projects").forEach(p -> print(s.out, p, false));
            }
            return 0;
        }
    }

    @Command(name = "info", description = "Show details of packages")
    static final class Info extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "PROJECT")
        List<String> names;
        @Mixin
        DistrosCommand.Choice distro;

        @Override
        int run(Session s) throws IOException {
            JsonNode info = s.getJson("/projects/info/" + String.join(",", Session.names(names).stream().map(Session::path).toList())
                    + distro.query('?'));
            if (!s.json) {
                info.path("projects").forEach(p -> print(s.out, p, true));
            }
            return 0;
        }
    }

    static void print(PrintStream out, JsonNode project, boolean builds) {
        for (String field : List.of("name", "summary", "homepage", "description")) {
            String value = project.path(field).asText();
            if (!value.isEmpty()) {
                String title = Character.toUpperCase(field.charAt(0)) + field.substring(1);
                out.println(title + ": " + wrap(value, title.length() + 2));
            }
        }
        if (builds) {
            out.println("Builds: ");
            for (JsonNode b : project.path("builds")) {
                long epoch = b.path("epoch").asLong();
                String release = b.path("release").asText();
                out.println("    " + (epoch != 0 ? epoch + ":" : "") + b.at("/source/version").asText()
                        + (release.isEmpty() ? "" : "-" + release) + "." + b.path("arch").asText() + " at "
                        + b.path("build_time").asText() + " for " + b.path("changelog").asText());
            }
        }
        out.print("\n\n\n");
    }

    /** Wraps at 70 columns, continuation lines indented under the value (as Python's textwrap.fill). */
    static String wrap(String text, int indent) {
        StringBuilder out = new StringBuilder();
        int col = indent;
        for (String word : text.split("\\s+")) {
            if (word.isEmpty()) {
                continue;
            }
            if (col > indent && col + 1 + word.length() > 70) {
                out.append('\n').append(" ".repeat(indent));
                col = indent;
            } else if (col > indent) {
                out.append(' ');
                col++;
            }
            out.append(word);
            col += word.length();
        }
        return out.toString();
    }
}
