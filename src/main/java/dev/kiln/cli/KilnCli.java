package dev.kiln.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/**
 * {@code kiln}: composer-cli's commands and output against a Kiln (or lorax) server. Options may come before or
 * after the command, as with composer-cli. Exit status 0 on success, 1 on any error.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, version = "kiln 0.1.0", scope = ScopeType.INHERIT,
        description = "Build machine images from blueprints (composer-cli compatible).",
        subcommands = {StatusCommand.class, BlueprintsCommand.class, ComposeCommand.class, SourcesCommand.class,
                ProjectsCommand.class, ModulesCommand.class, DistrosCommand.class, AdminCommand.class, CommandLine.HelpCommand.class})
public final class KilnCli {

    @Option(names = {"-s", "--socket"}, scope = ScopeType.INHERIT, defaultValue = "/run/weldr/api.socket",
            description = "Path to the API socket (default: ${DEFAULT-VALUE})")
    String socket;

    @Option(names = "--url", scope = ScopeType.INHERIT,
            description = "Talk to the API over TCP instead, e.g. http://127.0.0.1:4000")
    URI url;

    @Option(names = "--token-file", scope = ScopeType.INHERIT,
            description = "With --url: the file holding the API token (default: $KILN_API_TOKEN, else "
                    + "/var/lib/lorax/composer/api-token when readable)")
    Path tokenFile;

    @Option(names = {"-a", "--api"}, scope = ScopeType.INHERIT, defaultValue = "1",
            description = "API version (default: ${DEFAULT-VALUE})")
    String api;

    @Option(names = {"-j", "--json"}, scope = ScopeType.INHERIT, description = "Print the server's JSON")
    boolean json;

    @Option(names = "--test", scope = ScopeType.INHERIT, description = "Start composes in test mode 1 (fails) or 2 (finishes)")
    Integer test;

    final PrintStream out;
    final PrintStream err;
    final Path workDir;

    KilnCli(PrintStream out, PrintStream err, Path workDir) {
        this.out = out;
        this.err = err;
        this.workDir = workDir;
    }

    /** Runs the command line with the process's streams and working directory. */
    /** The thin client's entry point ({@code target/kiln-cli.jar}, what {@code bin/kiln} runs). */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return execute(System.out, System.err, Path.of("").toAbsolutePath(), args);
    }

    public static int execute(PrintStream out, PrintStream err, Path workDir, String... args) {
        CommandLine cli = new CommandLine(new KilnCli(out, err, workDir));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("ERROR: " + e.getMessage());
            return 1;
        });
        cli.setParameterExceptionHandler((e, args1) -> {
            err.println("ERROR: " + e.getMessage());
            e.getCommandLine().usage(err);
            return 1;
        });
        return cli.execute(args);
    }

    Session session() {
        return new Session(new WeldrClient(socket, url, url == null ? null : token()), "/api/v" + api, json, out, err);
    }

    /** The API token for TCP: {@code --token-file}, {@code $KILN_API_TOKEN}, or the default state directory's. */
    private String token() {
        try {
            if (tokenFile != null) {
                return Files.readString(tokenFile).strip();
            }
            String env = System.getenv("KILN_API_TOKEN");
            if (env != null && !env.isBlank()) {
                return env.strip();
            }
            Path standard = Path.of("/var/lib/lorax/composer/api-token");
            return Files.isReadable(standard) ? Files.readString(standard).strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the API token: " + e.getMessage(), e);
        }
    }
}
