package dev.kiln;

import java.nio.file.Path;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Kiln's settings: {@code kiln.state-dir}, {@code kiln.node-dir}, {@code kiln.api.socket} and {@code kiln.api.port}.
 *
 * @param stateDir where blueprints, sources, results and the H2 engine database live (lorax's lib_dir); several
 *                 nodes on one PostgreSQL engine share it (docs/scale.md)
 * @param nodeDir  what belongs to this machine alone: package, metadata and tree caches, the build sandbox's work
 *                 directories, Tomcat's files; empty = the state directory (one machine)
 * @param api      the Weldr API listeners
 */
@ConfigurationProperties("kiln")
public record KilnProperties(@DefaultValue(DEFAULT_STATE_DIR) Path stateDir, @DefaultValue("") String nodeDir,
        @DefaultValue Api api) {

    public static final String DEFAULT_STATE_DIR = "/var/lib/lorax/composer";

    public KilnProperties {
        stateDir = stateDir.toAbsolutePath().normalize(); // tools run in other directories
        nodeDir = nodeDir.isBlank() ? stateDir.toString() : Path.of(nodeDir).toAbsolutePath().normalize().toString();
    }

    /** This machine's own directory ({@code kiln.node-dir}, by default the state directory). */
    public Path localDir() {
        return Path.of(nodeDir);
    }

    /**
     * @param socket       unix socket path; empty disables the socket listener
     * @param port         TCP port (the listener binds 127.0.0.1 unless {@code address} says otherwise): {@code /engine-rest} and
     *                     Cockpit behind their login, and the Weldr API only when {@code tcpWeldr} is set
     * @param tcpWeldr     serve the Weldr API on TCP too, to clients that send the API token (off by default)
     * @param allowedHosts {@code Host} names accepted on TCP besides the loopback ones (against DNS rebinding)
     * @param address      the address the TCP listener binds: loopback by default; a node of several binds one that
     *                     its remote workers reach (it is then accepted as a {@code Host} too)
     */
    public record Api(@DefaultValue("/run/weldr/api.socket") String socket, @DefaultValue("4000") int port,
            @DefaultValue("false") boolean tcpWeldr, @DefaultValue List<String> allowedHosts,
            @DefaultValue("127.0.0.1") String address) {
    }

    public Path blueprintsDir() {
        return stateDir.resolve("blueprints");
    }

    public Path resultsDir() {
        return stateDir.resolve("results");
    }
}
