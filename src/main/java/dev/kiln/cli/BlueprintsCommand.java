package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code blueprints ...}: composer-cli's blueprint commands and their output. */
@Command(name = "blueprints", description = "Manage blueprints", subcommands = {
        BlueprintsCommand.ListCmd.class, BlueprintsCommand.Show.class, BlueprintsCommand.Changes.class,
        BlueprintsCommand.Diff.class, BlueprintsCommand.Save.class, BlueprintsCommand.Delete.class,
        BlueprintsCommand.Push.class, BlueprintsCommand.Workspace.class, BlueprintsCommand.Tag.class,
        BlueprintsCommand.Undo.class, BlueprintsCommand.Depsolve.class, FreezeCommand.class})
final class BlueprintsCommand {

    private static final String TOML = "text/x-toml";



    @Command(name = "list", description = "List the names of the available blueprints")
    static final class ListCmd extends CliCommand {
        @Override
        int run(Session s) throws IOException {
            int total = s.probe("/blueprints/list?limit=0").path("total").asInt();
            JsonNode all = s.getJson("/blueprints/list?limit=" + total);
            if (!s.json) {
                all.path("blueprints").forEach(n -> s.out.println(n.asText()));
            }
            return 0;
        }
    }

    @Command(name = "show", description = "Display the blueprint in TOML format")
    static final class Show extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            List<String> list = Session.names(names);
            if (s.json) {
                JsonNode info = s.getJson("/blueprints/info/" + String.join(",", list.stream().map(Session::path).toList()));
                return s.itemErrors(info) ? 1 : 0;
            }
            s.showToml("/blueprints/info/", list);
            return 0;
        }
    }

    @Command(name = "changes", description = "Display the changes for each blueprint")
    static final class Changes extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            String route = "/blueprints/changes/" + String.join(",", Session.names(names).stream().map(Session::path).toList());
            int max = 0;
            for (JsonNode bp : s.probe(route + "?limit=0").path("blueprints")) {
                max = Math.max(max, bp.path("total").asInt());
            }
            JsonNode result = s.getJson(route + "?limit=" + max);
            if (!s.json) {
                for (JsonNode bp : result.path("blueprints")) {
                    s.out.println(bp.path("name").asText());
                    for (JsonNode c : bp.path("changes")) {
                        String revision = c.path("revision").isNull() ? "" : "  revision " + c.path("revision").asText();
                        s.out.println("    " + c.path("timestamp").asText() + "  " + c.path("commit").asText() + revision);
                        s.out.println("    " + c.path("message").asText());
                        s.out.println();
                    }
                }
            }
            return s.itemErrors(result) ? 1 : 0;
        }
    }

    @Command(name = "diff", description = "Display the differences between two versions of a blueprint "
            + "(FROM: commit or NEWEST; TO: commit, NEWEST or WORKSPACE)")
    static final class Diff extends CliCommand {
        @Parameters(index = "0", paramLabel = "BLUEPRINT")
        String name;
        @Parameters(index = "1", paramLabel = "FROM")
        String from;
        @Parameters(index = "2", paramLabel = "TO")
        String to;

        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.getJson("/blueprints/diff/" + Session.path(name) + "/" + Session.path(from) + "/"
                    + Session.path(to));
            if (!s.json) {
                result.path("diff").forEach(d -> s.out.println(prettyDiff(d)));
            }
            return 0;
        }
    }

    /** One diff entry as composer-cli prints it, e.g. {@code Changed Version 0.0.1 -> 0.0.2}. */
    static String prettyDiff(JsonNode d) {
        JsonNode o = d.path("old");
        JsonNode n = d.path("new");
        boolean hasOld = o.isObject();
        boolean hasNew = n.isObject();
        String change = hasOld && hasNew ? "Changed" : hasNew ? "Added" : hasOld ? "Removed" : "Unknown";
        String key = hasOld ? o.fieldNames().next() : hasNew ? n.fieldNames().next() : "Unknown";
        JsonNode ov = o.path(key);
        JsonNode nv = n.path(key);
        String details;
        if (change.equals("Changed")) {
            details = switch (key) {
                case "Description" -> "\"" + ov.asText() + "\" -> \"" + nv.asText() + "\"";
                case "Version", "Name" -> ov.asText() + " -> " + nv.asText();
                case "Module", "Package" -> ov.path("name").asText() + " " + ov.path("version").asText() + " -> "
                        + nv.path("version").asText();
                case "Group" -> ov.path("name").asText();
                default -> render(ov) + " -> " + render(nv);
            };
        } else {
            JsonNode v = hasNew ? nv : ov;
            details = switch (key) {
                case "Module", "Package" -> v.path("name").asText() + " " + v.path("version").asText();
                case "Group" -> v.path("name").asText();
                default -> render(v);
            };
        }
        return change + " " + key + " " + details;
    }

    private static String render(JsonNode v) {
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isObject()) {
            StringBuilder sb = new StringBuilder();
            for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                sb.append(sb.length() == 0 ? "" : " ").append(f).append('=').append(render(v.path(f)));
            }
            return sb.toString();
        }
        if (v.isArray()) {
            StringBuilder sb = new StringBuilder();
            v.forEach(e -> sb.append(sb.length() == 0 ? "" : ", ").append(render(e)));
            return "[" + sb + "]";
        }
        return v.toString();
    }

    @Command(name = "save", description = "Save the blueprints to TOML files named BLUEPRINT.toml")
    static final class Save extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            s.saveToml("/blueprints/info/", names, cli().workDir, ".toml");
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a blueprint from the server")
    static final class Delete extends CliCommand {
        @Parameters(index = "0", paramLabel = "BLUEPRINT")
        String name;

        @Override
        int run(Session s) throws IOException {
            s.deleteJson("/blueprints/delete/" + Session.path(name));
            return 0;
        }
    }

    /** Posts each TOML file to one route, as composer-cli's push and workspace do. */
    abstract static class PostFiles extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "FILE")
        List<Path> files;

        abstract String route();

        @Override
        int run(Session s) throws IOException {
            for (Path file : files) {
                s.postJson(route(), TOML, Files.readAllBytes(cli().workDir.resolve(file)));
            }
            return 0;
        }
    }

    @Command(name = "push", description = "Push blueprint TOML files to the server")
    static final class Push extends PostFiles {
        @Override
        String route() {
            return "/blueprints/new";
        }
    }

    @Command(name = "workspace", description = "Push blueprint TOML files to the workspace")
    static final class Workspace extends PostFiles {
        @Override
        String route() {
            return "/blueprints/workspace";
        }
    }

    @Command(name = "depsolve", description = "Show the full set of packages each blueprint installs")
    static final class Depsolve extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "BLUEPRINT")
        List<String> names;

        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.getJson("/blueprints/depsolve/" + String.join(",", Session.names(names).stream().map(Session::path).toList()));
            if (!s.json) {
                for (JsonNode bp : result.path("blueprints")) {
                    s.out.println("blueprint: " + bp.at("/blueprint/name").asText() + " v" + bp.at("/blueprint/version").asText());
                    bp.path("dependencies").forEach(d -> s.out.println("    " + nevra(d)));
                }
            }
            return s.itemErrors(result) ? 1 : 0;
        }
    }

    /** {@code name-[epoch:]version[-release].arch}, the epoch only when it is not 0. */
    static String nevra(JsonNode d) {
        long epoch = d.path("epoch").asLong();
        String release = d.path("release").asText();
        return d.path("name").asText() + "-" + (epoch != 0 ? epoch + ":" : "") + d.path("version").asText()
                + (release.isEmpty() ? "" : "-" + release) + "." + d.path("arch").asText();
    }

    @Command(name = "tag", description = "Tag the most recent blueprint commit as a release")
    static final class Tag extends CliCommand {
        @Parameters(index = "0", paramLabel = "BLUEPRINT")
        String name;

        @Override
        int run(Session s) throws IOException {
            s.postJson("/blueprints/tag/" + Session.path(name), null, null);
            return 0;
        }
    }

    @Command(name = "undo", description = "Undo changes to a blueprint by reverting to the selected commit")
    static final class Undo extends CliCommand {
        @Parameters(index = "0", paramLabel = "BLUEPRINT")
        String name;
        @Parameters(index = "1", paramLabel = "COMMIT")
        String commit;

        @Override
        int run(Session s) throws IOException {
            s.postJson("/blueprints/undo/" + Session.path(name) + "/" + Session.path(commit), null, null);
            return 0;
        }
    }
}
