package dev.kiln.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AptSourcesTest {

    @TempDir
    Path apt;

    @Test
    void deb822AndOneLineFilesBecomeSystemSources() throws Exception {
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.writeString(apt.resolve("sources.list.d/debian.sources"), """
                Types: deb deb-src
                # a comment
                URIs: http://mirror.example/debian
                Suites: bookworm bookworm-updates
                Components: main contrib
                Signed-By: /usr/share/keyrings/example.gpg

                Types: deb-src
                URIs: http://mirror.example/debian
                Suites: bookworm
                Components: main

                Types: deb
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main
                Enabled: no
                """);
        Files.writeString(apt.resolve("sources.list"), """
                deb [arch=amd64 signed-by=/k.gpg] http://other.example/debian bookworm main # trailing
                # deb http://commented.example/debian bookworm main
                deb-src http://other.example/debian bookworm main
                deb [trusted=yes] file:///srv/repo ./ 
                """);
        Files.writeString(apt.resolve("sources.list.d/ignored.list.disabled"), "deb http://x.example/ y z\n");
        Files.createDirectories(apt.resolve("trusted.gpg.d"));
        Files.writeString(apt.resolve("trusted.gpg.d/extra.gpg"), "");
        List<Source> sources = AptSources.read(apt);
        assertThat(sources).extracting(Source::id).containsExactly("debian", "repo", "debian-2");
        Source one = sources.get(0);
        assertThat(one.url()).isEqualTo("http://other.example/debian");
        assertThat(one.architectures()).containsExactly("amd64");
        assertThat(one.gpgkeyPaths()).containsExactly("/k.gpg");
        Source trusted = sources.get(1);
        assertThat(trusted.checkGpg()).isFalse();
        assertThat(trusted.gpgkeyPaths()).containsExactly(apt.resolve("trusted.gpg.d/extra.gpg").toString());
        Source deb822 = sources.get(2);
        assertThat(deb822.suites()).containsExactly("bookworm", "bookworm-updates");
        assertThat(deb822.components()).containsExactly("main", "contrib");
        assertThat(deb822.gpgkeyPaths()).containsExactly("/usr/share/keyrings/example.gpg");
        assertThat(sources).allMatch(Source::system);
    }
}
