package dev.kiln.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which host tools each type's build needs, found on a PATH, and the packages that have the missing ones. */
class HostToolsTest {

    @TempDir
    Path bin;

    Path tools(String... names) throws IOException {
        for (String n : names) {
            Files.writeString(bin.resolve(n), "#!/bin/sh\n");
            Files.setPosixFilePermissions(bin.resolve(n), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return bin;
    }

    @Test
    void aTypeLacksTheToolsItsBuildRunsThatAreNotOnThePath() throws IOException {
        tools("cp", "unshare", "setpriv", "dpkg-deb");
        assertThat(HostTools.missing(OutputType.TAR, bin.toString())).containsExactly("xz (xz-utils)");
        tools("xz");
        assertThat(HostTools.missing(OutputType.TAR, bin.toString())).isEmpty();
        // a plain file of that name is not a tool
        Files.writeString(bin.resolve("qemu-img"), "not executable\n");
        assertThat(HostTools.missing(OutputType.QCOW2, bin.toString())).contains("qemu-img (qemu-utils)");
        assertThat(HostTools.missing(OutputType.LIVE_ISO, bin.toString())).contains("xorriso (xorriso)",
                "mksquashfs (squashfs-tools)");
    }

    @Test
    void theMissingToolsNameTheirPackagesOnce() {
        assertThat(HostTools.packages(List.of("mcopy (mtools)", "mmd (mtools)", "qemu-img (qemu-utils)")))
                .containsExactly("mtools", "qemu-utils");
        for (OutputType t : OutputType.values()) {
            HostTools.NEEDS.get(t).forEach(tool -> assertThat(HostTools.PACKAGES).as(tool).containsKey(tool));
        }
    }

    @Test
    void thisHostBuildsEveryType() {
        // what scripts/setup installs: CI and the README's machine have every tool
        for (OutputType t : OutputType.values()) {
            assertThat(HostTools.missing(t)).as(t.id()).isEmpty();
        }
    }
}
