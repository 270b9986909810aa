package dev.kiln.testing;

import dev.kiln.cli.KilnCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One run of the {@code kiln} CLI in this JVM: its exit code and what it printed on each stream. */
public record CliRun(int exit, String out, String err) {

    /** Runs {@code kiln <connection…> <args…>} in {@code dir}; {@code connection} is {@code -s SOCKET} or {@code --url …}. */
    public static CliRun of(Path dir, List<String> connection, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(connection);
        all.addAll(List.of(args));
        int exit = KilnCli.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), dir, all.toArray(String[]::new));
        return new CliRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The connection of a test server on loopback TCP: its port and the token of its state directory. */
    public static List<String> tcp(int port, Path stateDir) {
        return List.of("--url", "http://127.0.0.1:" + port, "--token-file", stateDir.resolve("api-token").toString());
    }
}
