package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.image.sandbox.ToolFailedException;
import org.junit.jupiter.api.Test;

/** dpkg's failures, as dpkg 1.21 prints them, told by the package and script that failed. */
class DpkgErrorsTest {

    @Test
    void aFailingPostinstIsNamedWithItsPackageAndStatus() {
        String output = """
                Unpacking kiln-broken (1.0) ...
                Setting up kiln-broken (1.0) ...
                broken-postinst-says-no
                dpkg: error processing package kiln-broken (--install):
                 installed kiln-broken package post-installation script subprocess returned error exit status 7
                Errors were encountered while processing:
                 kiln-broken
                """;
        ToolFailedException e = DpkgErrors.explain(new ToolFailedException("dpkg --install …", 1, output));
        assertThat(e.getMessage().lines().findFirst().orElseThrow())
                .isEqualTo("package kiln-broken: its postinst exited with status 7 (dpkg --install)");
        assertThat(e.getMessage()).contains("broken-postinst-says-no").endsWith("exit status 7");
        assertThat(e.exitCode()).isEqualTo(1);
    }

    @Test
    void theLinesShownAreThePackagesOwnEvenWhenDpkgWentOnWithOthers() {
        String output = "Setting up kiln-broken (1.0) ...\nbroken-postinst-says-no\n"
                + "dpkg: error processing package kiln-broken (--install):\n"
                + " installed kiln-broken package post-installation script subprocess returned error exit status 7\n"
                + "Setting up passwd (1:4.13) ...\n".repeat(20)
                + "Errors were encountered while processing:\n kiln-broken\n";
        String message = DpkgErrors.explain(new ToolFailedException("dpkg", 1, output)).getMessage();
        assertThat(message.lines().toList()).containsExactly(
                "package kiln-broken: its postinst exited with status 7 (dpkg --install)",
                "Setting up kiln-broken (1.0) ...", "broken-postinst-says-no",
                "dpkg: error processing package kiln-broken (--install):",
                " installed kiln-broken package post-installation script subprocess returned error exit status 7");
    }

    @Test
    void otherScriptsAndArchivesAreNamedToo() {
        String preinst = "dpkg: error processing archive /var/cache/kiln/debs/web.deb (--install):\n"
                + " new web package pre-installation script subprocess returned error exit status 2\n";
        assertThat(DpkgErrors.explain(new ToolFailedException("dpkg", 1, preinst)).getMessage())
                .startsWith("package web: its preinst exited with status 2 (dpkg --install)");
        String conflict = "dpkg: error processing package b (--configure):\n dependency problems - leaving unconfigured\n";
        assertThat(DpkgErrors.explain(new ToolFailedException("dpkg", 1, conflict)).getMessage())
                .startsWith("package b: dependency problems - leaving unconfigured (dpkg --configure)");
        ToolFailedException other = new ToolFailedException("dpkg", 2, "dpkg: error: unknown option\n");
        assertThat(DpkgErrors.explain(other)).isSameAs(other);
    }
}
