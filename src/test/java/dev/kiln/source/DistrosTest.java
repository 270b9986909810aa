package dev.kiln.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which distributions a host builds, and the system sources of one that is not the host's. */
class DistrosTest {

    static final Distro BOOKWORM = new Distro("debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)");
    static final Distro TRIXIE = new Distro("debian", "13", "trixie", "Debian GNU/Linux 13 (trixie)");

    static Source deb(String id, String url, String... suites) {
        return new Source(id, url, Source.DEB, url, List.of(suites), List.of("main"), List.of(), true, true,
                List.of("/usr/share/keyrings/debian-archive-keyring.gpg"), List.of(), null, true, List.of());
    }

    @Test
    void aDebianHostBuildsEveryDebianReleaseKilnKnowsAnotherHostOnlyItsOwn() {
        assertThat(Distros.known(BOOKWORM)).extracting(Distro::name).containsExactly("debian-12", "debian-13");
        assertThat(Distros.known(TRIXIE)).extracting(Distro::name).containsExactly("debian-12", "debian-13");
        assertThat(Distros.known(BOOKWORM).get(1)).isEqualTo(TRIXIE);
        Distro ubuntu = new Distro("ubuntu", "24.04", "noble", "Ubuntu 24.04 LTS");
        assertThat(Distros.known(ubuntu)).containsExactly(ubuntu);
        // a Debian testing host (no VERSION_ID) is not one of the releases: only itself
        Distro testing = new Distro("debian", "", "forky", "Debian GNU/Linux forky/sid");
        assertThat(Distros.known(testing)).containsExactly(testing);
    }

    @Test
    void anotherReleasesSourcesAreTheHostsWithItsSuites() {
        List<Source> host = List.of(deb("debian", "http://mirror.test/debian", "bookworm", "bookworm-updates"),
                deb("debian-security", "http://mirror.test/debian-security", "bookworm-security"),
                deb("backports", "http://mirror.test/debian", "bookworm-backports"),
                deb("vendor", "http://vendor.test/apt", "cloud-sdk-bookworm"),
                deb("node", "http://node.test/node_20.x", "nodistro"),
                deb("mixed", "http://mixed.test/apt", "bookworm", "stable"));
        List<Source> trixie = Distros.derive(host, BOOKWORM, TRIXIE);
        assertThat(trixie).extracting(Source::id).containsExactly("debian", "debian-security", "backports");
        assertThat(trixie.get(0).suites()).containsExactly("trixie", "trixie-updates");
        assertThat(trixie.get(1).suites()).containsExactly("trixie-security");
        assertThat(trixie.get(2).suites()).containsExactly("trixie-backports");
        Source s = trixie.get(0);
        assertThat(s.url()).isEqualTo("http://mirror.test/debian");
        assertThat(s.gpgkeyPaths()).containsExactly("/usr/share/keyrings/debian-archive-keyring.gpg");
        assertThat(s.checkGpg()).isTrue();
        assertThat(s.system()).isTrue();
        assertThat(s.distros()).containsExactly("debian-13");
        assertThat(s.name()).isEqualTo("http://mirror.test/debian trixie trixie-updates");
        // the host's own: unchanged
        assertThat(Distros.derive(host, BOOKWORM, BOOKWORM)).isEqualTo(host);
        // and back from a trixie host
        assertThat(Distros.derive(trixie, TRIXIE, BOOKWORM).get(0).suites()).containsExactly("bookworm", "bookworm-updates");
    }

    @Test
    void unknownNamesAreRefusedNamingTheKnownOnes() {
        assertThat(Distros.resolve(null)).contains(Distros.host());
        assertThat(Distros.resolve("")).contains(Distros.host());
        assertThat(Distros.resolve("debian-13x")).isEmpty();
        assertThat(Distros.resolve("../debian-13")).isEmpty();
        assertThat(Distros.invalid("fedora-40\n")).startsWith("Invalid distro: fedora-40?").contains(Distros.host());
    }
}
