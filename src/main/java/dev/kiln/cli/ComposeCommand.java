package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code compose ...}: composer-cli's compose commands and their output. */
@Command(name = "compose", description = "Start, watch and fetch composes", subcommands = {
        ComposeCommand.Start.class, ComposeCommand.Types.class, ComposeCommand.Status.class, ComposeCommand.ListCmd.class,
        ComposeCommand.Info.class, ComposeCommand.Log.class, ComposeCommand.Cancel.class, ComposeCommand.Delete.class,
        ComposeCommand.Logs.class, ComposeCommand.Sbom.class, ComposeCommand.Metrics.class, ComposeCommand.Metadata.class, ComposeCommand.Results.class, ComposeCommand.Image.class})
final class ComposeCommand {

    /** {@code %c} of the C locale, as Python's composer-cli prints times: {@code Mon Jul 13 19:42:14 2020}. */
    static final DateTimeFormatter C_TIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.ROOT)
            .withZone(ZoneId.systemDefault());
    private static final List<String> ORDER = List.of("RUNNING", "WAITING", "FINISHED", "FAILED");



    @Command(name = "start", description = "Start a compose of BLUEPRINT as TYPE")
    static final class Start extends CliCommand {
        @Parameters(index = "0", paramLabel = "BLUEPRINT")
        String blueprint;
        @Parameters(index = "1", paramLabel = "TYPE")
        String type;
        @Option(names = "--size", paramLabel = "MiB", description = "Image size in MiB (at least)")
        Long sizeMiB;
        @Option(names = "--wait", description = "Wait for the compose to end, showing its progress")
        boolean waitForIt;
        @Option(names = "--boot-test", negatable = true,
                description = "Boot the image in QEMU before the compose finishes (the server's default otherwise)")
        Boolean bootTest;

        @Override
        int run(Session s) throws IOException, InterruptedException {
            ObjectNode body = Session.JSON.createObjectNode();
            body.put("blueprint_name", blueprint);
            body.put("compose_type", type);
            body.put("branch", "master");
            if (bootTest != null) {
                body.put("boot_test", bootTest);
            }
            if (sizeMiB != null) {
                body.put("size", sizeMiB * 1024 * 1024);
            }
            String route = "/compose" + (cli().test != null ? "?test=" + cli().test : "");
            JsonNode result = s.postJson(route, "application/json", Session.JSON.writeValueAsBytes(body));
            String uuid = result.path("build_id").asText();
            if (!s.json) {
                s.out.println("Compose " + uuid + " added to the queue");
            }
            return waitForIt ? waitFor(s, uuid) : 0;
        }
    }

    /**
     * Follows the compose until it ends: each change of status and step as a line, its progress as a bar on a
     * terminal or plain lines otherwise (pushed by the server's long poll: an answer comes as soon as the log
     * grows or the phase moves on); then its reason when it FAILED (exit 1).
     */
    static int waitFor(Session s, String uuid) throws IOException {
        ProgressView view = ProgressView.of(s);
        String last = "";
        long next = 0;
        long seq = 0;
        while (true) {
            JsonNode part = s.probeKiln("/api/kiln/compose/log/" + Session.path(uuid) + "?after=" + next
                    + "&wait=25&progress=" + seq);
            next = part.path("next").asLong();
            String status = part.path("queue_status").asText();
            String step = part.path("step").asText();
            String now = status + (step.isEmpty() || !status.equals("RUNNING") ? "" : " (" + step + ")");
            if (!now.equals(last) && !s.json && !part.path("ended").asBoolean()) {
                view.line(uuid + " " + now);
                last = now;
            }
            JsonNode p = part.path("progress");
            if (p.isObject()) {
                seq = p.path("seq").asLong();
                if (!s.json) {
                    view.show(uuid, status, p);
                }
            } else {
                view.done(); // no phase now (a step after the build, or none yet): no bar
            }
            if (part.path("ended").asBoolean()) {
                view.done();
                JsonNode info = s.probe("/compose/info/" + uuid);
                if (!s.json) {
                    s.out.println(uuid + " " + info.path("queue_status").asText());
                }
                if (info.path("queue_status").asText().equals("FAILED")) {
                    printError(s, info.path("error"));
                    return 1;
                }
                return 0;
            }
        }
    }

    /** A failed compose's reason, as {@code compose info} and {@code --wait} print it: the step, then its last lines. */
    static void printError(Session s, JsonNode error) {
        if (error.isMissingNode() || error.isNull()) {
            return;
        }
        String step = error.path("step").asText();
        s.out.println("Error: " + (step.isEmpty() ? "" : step + ": ") + error.path("reason").asText());
        error.path("last_lines").asText().lines().forEach(l -> s.out.println("    " + l));
    }

    @Command(name = "types", description = "List the output types that can be built")
    static final class Types extends CliCommand {
        @Mixin
        DistrosCommand.Choice distro;

        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.getJson("/compose/types" + distro.query('?'));
            if (!s.json) {
                result.path("types").forEach(t -> {
                    if (t.path("enabled").asBoolean()) {
                        s.out.println(t.path("name").asText());
                    }
                });
            }
            return 0;
        }
    }

    static List<JsonNode> all(Session s) throws IOException {
        List<JsonNode> all = new ArrayList<>();
        JsonNode queue = s.getJson("/compose/queue");
        queue.path("run").forEach(all::add);
        queue.path("new").forEach(all::add);
        s.getJson("/compose/finished").path("finished").forEach(all::add);
        s.getJson("/compose/failed").path("failed").forEach(all::add);
        // RUNNING, WAITING, FINISHED, FAILED; newest first in each, so that `compose status | head -n1` is the latest
        all.sort(Comparator.comparingInt((JsonNode c) -> ORDER.indexOf(c.path("queue_status").asText()))
                .thenComparing(c -> -c.path("job_created").asDouble()));
        return all;
    }

    @Command(name = "status", description = "List every compose with its status and time")
    static final class Status extends CliCommand {
        @Override
        int run(Session s) throws IOException {
            for (JsonNode c : all(s)) {
                if (s.json) {
                    continue;
                }
                double time = !c.path("job_finished").isNull() && c.has("job_finished") ? c.path("job_finished").asDouble()
                        : !c.path("job_started").isNull() && c.has("job_started") ? c.path("job_started").asDouble()
                        : c.path("job_created").asDouble();
                long size = c.path("image_size").asLong();
                s.out.println(String.join(" ", c.path("id").asText(), c.path("queue_status").asText(),
                        C_TIME.format(Instant.ofEpochMilli((long) (time * 1000))), c.path("blueprint").asText(),
                        c.path("version").asText(), c.path("compose_type").asText(), size > 0 ? String.valueOf(size) : "")
                        + (c.has("error") ? " " + c.at("/error/reason").asText() : "")
                        + (c.hasNonNull("phase") ? " " + c.path("phase").asText() : ""));
            }
            return 0;
        }
    }

    @Command(name = "list", description = "List composes: all, or waiting|running|finished|failed")
    static final class ListCmd extends CliCommand {
        @Parameters(arity = "0..1", paramLabel = "STATE")
        String state;

        @Override
        int run(Session s) throws IOException {
            if (state != null && !List.of("waiting", "running", "finished", "failed").contains(state.toLowerCase(Locale.ROOT))) {
                s.err.println("ERROR: compose list takes waiting, running, finished or failed");
                return 1;
            }
            for (JsonNode c : all(s)) {
                if (s.json || state != null && !c.path("queue_status").asText().equalsIgnoreCase(state)) {
                    continue;
                }
                s.out.println(String.join(" ", c.path("id").asText(), c.path("queue_status").asText(),
                        c.path("blueprint").asText(), c.path("version").asText(), c.path("compose_type").asText()));
            }
            return 0;
        }
    }

    @Command(name = "info", description = "Show a compose's blueprint, packages and dependencies")
    static final class Info extends CliCommand {
        @Parameters(index = "0", paramLabel = "UUID")
        String uuid;

        @Override
        int run(Session s) throws IOException {
            JsonNode info = s.getJson("/compose/info/" + Session.path(uuid));
            if (s.json) {
                return 0;
            }
            long size = info.path("image_size").asLong();
            JsonNode bp = info.path("blueprint");
            s.out.println(String.join(" ", info.path("id").asText(), info.path("queue_status").asText(),
                    bp.path("name").asText(), bp.path("version").asText(), info.path("compose_type").asText(),
                    size > 0 ? String.valueOf(size) : "").stripTrailing());
            printError(s, info.path("error"));
            if (info.hasNonNull("phase")) {
                s.out.println("Phase: " + info.path("step").asText() + ": " + info.path("phase").asText());
            }
            s.out.println("Packages:");
            bp.path("packages").forEach(p -> s.out.println("    " + p.path("name").asText() + "-" + p.path("version").asText()));
            s.out.println("Modules:");
            bp.path("modules").forEach(p -> s.out.println("    " + p.path("name").asText() + "-" + p.path("version").asText()));
            s.out.println("Dependencies:");
            info.at("/deps/packages").forEach(d -> s.out.println("    " + BlueprintsCommand.nevra(d)));
            return 0;
        }
    }

    @Command(name = "log", description = "Show the end of a compose's log (KiB, default 1024)")
    static final class Log extends CliCommand {
        @Parameters(index = "0", paramLabel = "UUID")
        String uuid;
        @Parameters(index = "1", arity = "0..1", paramLabel = "KiB")
        Integer size;
        @Option(names = {"-f", "--follow"}, description = "Print the whole log, then its lines as they are written, "
                + "until the compose ends (exit 1 when it FAILED)")
        boolean follow;

        @Override
        int run(Session s) throws IOException {
            if (follow) {
                return follow(s);
            }
            WeldrClient.Response r = s.client.get(s.prefix + "/compose/log/" + Session.path(uuid) + "?size=" + (size == null ? 1024 : size));
            String text = r.text();
            if (text.startsWith("{")) {
                s.checked("GET", "/compose/log/" + Session.path(uuid), r);
                return 0;
            }
            s.out.print(text);
            return 0;
        }

        /**
         * Long polls of Kiln's follow route: each answers as soon as lines are written or the phase moves on (or
         * after 25 s); on a terminal the progress bar stays below the lines.
         */
        private int follow(Session s) throws IOException {
            ProgressView view = ProgressView.of(s);
            long next = 0;
            long seq = 0;
            while (true) {
                JsonNode part = s.probeKiln("/api/kiln/compose/log/" + Session.path(uuid) + "?after=" + next
                        + "&wait=25&progress=" + seq);
                view.text(part.path("text").asText());
                next = part.path("next").asLong();
                JsonNode p = part.path("progress");
                if (p.isObject()) {
                    seq = p.path("seq").asLong();
                    view.show(uuid, part.path("queue_status").asText(), p);
                } else {
                    view.done();
                }
                if (part.path("ended").asBoolean()) {
                    view.done();
                    return part.path("queue_status").asText().equals("FAILED") ? 1 : 0;
                }
            }
        }
    }

    @Command(name = "cancel", description = "Cancel a waiting or running compose (it is removed)")
    static final class Cancel extends CliCommand {
        @Parameters(index = "0", paramLabel = "UUID")
        String uuid;

        @Override
        int run(Session s) throws IOException {
            s.deleteJson("/compose/cancel/" + Session.path(uuid));
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete finished or failed composes and their results")
    static final class Delete extends CliCommand {
        @Parameters(arity = "1..*", paramLabel = "UUID")
        List<String> uuids;

        @Override
        int run(Session s) throws IOException {
            JsonNode result = s.deleteJson("/compose/delete/" + String.join(",", Session.names(uuids).stream().map(Session::path).toList()));
            return s.itemErrors(result) ? 1 : 0;
        }
    }

    /** Saves a download under the name the server gives; never overwrites a file. */
    abstract static class Download extends CliCommand {
        @Parameters(index = "0", paramLabel = "UUID")
        String uuid;

        abstract String route();

        /** The route's full path: the Weldr API's version prefix, then {@link #route()}. */
        String full(Session s) {
            return s.prefix + route();
        }

        @Override
        int run(Session s) throws IOException {
            Path[] saved = new Path[1];
            WeldrClient.Response r = s.client.download(full(s) + Session.path(uuid), headers -> {
                String disposition = headers.getOrDefault("content-disposition", "");
                int eq = disposition.indexOf("filename=");
                String name = eq < 0 ? uuid : disposition.substring(eq + 9).replace(";", "").strip();
                if (name.contains("/") || name.startsWith(".")) {
                    throw new UncheckedIOException(new IOException("the server sent an unsafe file name: " + name));
                }
                saved[0] = cli().workDir.resolve(name);
                try {
                    return Files.newOutputStream(saved[0], StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    throw new UncheckedIOException(new IOException(name + " already exists; not overwriting it"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            if (r.status() != 200) {
                s.checked("GET", route() + Session.path(uuid), r);
                return 1;
            }
            if (!s.json) {
                s.out.println(saved[0].getFileName());
            }
            return 0;
        }
    }

    @Command(name = "metrics", description = "Show how long each step and phase of a compose took, with counts and bytes")
    static final class Metrics extends CliCommand {
        @Parameters(index = "0", paramLabel = "UUID")
        String uuid;

        @Override
        int run(Session s) throws IOException {
            JsonNode m = s.getKiln("/api/kiln/compose/metrics/" + Session.path(uuid));
            if (s.json) {
                return 0;
            }
            s.out.printf(Locale.ROOT, "%-12s %-12s %9s %9s %10s%n", "STEP", "PHASE", "SECONDS", "COUNT", "BYTES");
            for (JsonNode step : m.path("steps")) {
                String name = step.path("step").asText();
                s.out.println(String.format(Locale.ROOT, "%-12s %-12s %9.2f", name, step.path("outcome").asText().equals("done")
                        ? "" : "(" + step.path("outcome").asText() + ")", step.path("seconds").asDouble()).stripTrailing());
                for (JsonNode p : m.path("phases")) {
                    if (p.path("step").asText().equals(name) && p.path("started").asDouble() >= step.path("started").asDouble()
                            && p.path("started").asDouble() <= step.path("started").asDouble() + step.path("seconds").asDouble()) {
                        s.out.println(String.format(Locale.ROOT, "%-12s %-12s %9.2f %9s %10s", "", "  " + p.path("phase").asText(),
                                p.path("seconds").asDouble(), p.has("count") ? p.path("count").asText() : "",
                                p.path("bytes").asLong() > 0 ? ProgressView.size(p.path("bytes").asLong()) : "").stripTrailing());
                    }
                }
            }
            double total = 0;
            for (JsonNode step : m.path("steps")) {
                total += step.path("seconds").asDouble();
            }
            s.out.printf(Locale.ROOT, "%-12s %-12s %9.2f%n", "total", "", total);
            return 0;
        }
    }

    @Command(name = "sbom", description = "Download a compose's SPDX bill of materials as UUID-sbom.spdx.json")
    static final class Sbom extends Download {
        @Override
        String route() {
            return "/api/kiln/compose/sbom/";
        }

        @Override
        String full(Session s) {
            return route(); // Kiln's own route, beside the Weldr API
        }
    }

    @Command(name = "logs", description = "Download a compose's logs as UUID-logs.tar")
    static final class Logs extends Download {
        @Override
        String route() {
            return "/compose/logs/";
        }
    }

    @Command(name = "metadata", description = "Download a compose's metadata as UUID-metadata.tar")
    static final class Metadata extends Download {
        @Override
        String route() {
            return "/compose/metadata/";
        }
    }

    @Command(name = "results", description = "Download a compose's results as UUID.tar")
    static final class Results extends Download {
        @Override
        String route() {
            return "/compose/results/";
        }
    }

    @Command(name = "image", description = "Download a compose's image as UUID-IMAGE")
    static final class Image extends Download {
        @Override
        String route() {
            return "/compose/image/";
        }
    }
}
