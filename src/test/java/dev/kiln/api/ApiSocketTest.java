package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiSocketTest {

    @TempDir
    Path dir;

    @Test
    void aStaleSocketIsReplaced() throws Exception {
        Path path = dir.resolve("api.socket");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(path));
        }
        assertThat(path).exists();
        ApiSocket.prepare(path);
        assertThat(path).doesNotExist();
    }

    @Test
    void aLiveSocketIsLeftAlone() throws Exception {
        Path path = dir.resolve("api.socket");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(path));
            assertThatThrownBy(() -> ApiSocket.prepare(path)).hasMessageContaining("another server is listening");
            assertThat(path).exists();
        }
    }

    @Test
    void somethingElseAtThePathIsNeverDeleted() throws Exception {
        Path file = Files.writeString(dir.resolve("api.socket"), "precious");
        assertThatThrownBy(() -> ApiSocket.prepare(file)).hasMessageContaining("is not a socket");
        assertThat(Files.readString(file)).isEqualTo("precious");
    }

    @Test
    void theParentDirectoryIsCreated() {
        Path path = dir.resolve("run/weldr/api.socket");
        ApiSocket.prepare(path);
        assertThat(path.getParent()).isDirectory();
    }
}
