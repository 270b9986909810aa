package dev.kiln.api;

import dev.kiln.KilnProperties;
import dev.kiln.store.StatePermissions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Serves the same application on the Weldr unix socket (as lorax did, mode 0660, group {@code weldr} when that group
 * exists) besides loopback TCP. A socket left behind by a killed server is replaced; a live one, or a path that is
 * not a socket, stops the start-up instead of being clobbered.
 */
@Component
class ApiSocket implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {

    private static final Logger log = LoggerFactory.getLogger(ApiSocket.class);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    static final String GROUP = StatePermissions.GROUP;

    private final String socket;

    ApiSocket(KilnProperties properties) {
        this.socket = properties.api().socket();
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        // keep %2F encoded so a name like "..%2Fetc" reaches our validation (and its Weldr error) intact
        factory.addConnectorCustomizers(c -> c.setEncodedSolidusHandling("passthrough"));
        if (socket.isBlank()) {
            return;
        }
        Path path = Path.of(socket).toAbsolutePath();
        prepare(path);
        Connector connector = new Connector(TomcatServletWebServerFactory.DEFAULT_PROTOCOL);
        connector.setProperty("unixDomainSocketPath", path.toString());
        connector.setProperty("unixDomainSocketPathPermissions", "rw-rw----");
        connector.setEncodedSolidusHandling("passthrough");
        factory.addAdditionalTomcatConnectors(connector);
    }

    /** Creates the parent directory and removes a stale socket; refuses anything else found at the path. */
    static void prepare(Path path) {
        try {
            Path parent = path.getParent();
            if (!Files.isDirectory(parent)) {
                Files.createDirectories(parent,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
                StatePermissions.setGroup(parent);
            }
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & S_IFMT) != S_IFSOCK) {
                throw new IllegalStateException(path + " exists and is not a socket; refusing to replace it");
            }
            if (isLive(path)) {
                throw new IllegalStateException("another server is listening on " + path);
            }
            log.info("Removing stale socket {}", path);
            Files.delete(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the API socket " + path, e);
        }
    }

    private static boolean isLive(Path path) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @EventListener
    void started(WebServerInitializedEvent event) {
        if (!socket.isBlank()) {
            try {
                StatePermissions.setGroup(Path.of(socket).toAbsolutePath());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot set the group of " + socket, e);
            }
        }
    }

}
