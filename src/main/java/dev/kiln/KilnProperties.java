package dev.kiln;

import java.nio.file.Path;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Kiln's settings: {@code kiln.state-dir}, {@code kiln.api.socket} and {@code kiln.api.port}.
 *
 * @param stateDir where blueprints, results and the engine database live (lorax's lib_dir)
 * @param api      the Weldr API listeners
 */
@ConfigurationProperties("kiln")
public record KilnProperties(@DefaultValue(DEFAULT_STATE_DIR) Path stateDir, @DefaultValue Api api) {

    public static final String DEFAULT_STATE_DIR = "/var/lib/lorax/composer";

    public KilnProperties {
        stateDir = stateDir.toAbsolutePath().normalize(); // tools run in other directories
    }

    /**
     * @param socket       unix socket path; empty disables the socket listener
     * @param port         loopback TCP port (the TCP listener always binds 127.0.0.1): {@code /engine-rest} and
     *                     Cockpit behind their login, and the Weldr API only when {@code tcpWeldr} is set
     * @param tcpWeldr     serve the Weldr API on TCP too, to clients that send the API token (off by default)
     * @param allowedHosts {@code Host} names accepted on TCP besides the loopback ones (against DNS rebinding)
     */
    public record Api(@DefaultValue("/run/weldr/api.socket") String socket, @DefaultValue("4000") int port,
            @DefaultValue("false") boolean tcpWeldr, @DefaultValue List<String> allowedHosts) {
    }

    public Path blueprintsDir() {
        return stateDir.resolve("blueprints");
    }

    public Path resultsDir() {
        return stateDir.resolve("results");
    }
}
