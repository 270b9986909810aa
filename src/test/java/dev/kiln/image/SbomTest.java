package dev.kiln.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.image.tree.Copyrights;
import dev.kiln.output.OutputType;
import dev.kiln.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spdx.jacksonstore.MultiFormatStore;
import org.spdx.library.ModelCopyManager;
import org.spdx.library.model.SpdxDocument;
import org.spdx.storage.simple.InMemSpdxStore;

/** The SBOM of an image: an SPDX 2.3 document that the SPDX project's own library reads and finds valid. */
class SbomTest {

    @TempDir
    Path tree;

    static Map<String, Object> dep(String name, long epoch, String version, String release, String arch) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("epoch", epoch);
        d.put("version", version);
        d.put("release", release);
        d.put("arch", arch);
        d.put("checksum", "sha256:" + "ab".repeat(32));
        d.put("remote_location", "http://mirror.test/debian/pool/main/" + name + ".deb");
        d.put("source_id", "debian");
        return d;
    }

    /** The SPDX library's findings on {@code json}; empty when it is a valid SPDX 2.3 document. */
    static List<String> spdxProblems(String json) throws Exception {
        System.setProperty("SPDXParser.OnlyUseLocalLicenses", "true"); // the licence list bundled, not fetched
        MultiFormatStore store = new MultiFormatStore(new InMemSpdxStore(), MultiFormatStore.Format.JSON);
        String uri = store.deSerialize(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), false);
        SpdxDocument doc = new SpdxDocument(store, uri, new ModelCopyManager(), false);
        return doc.verify();
    }

    @Test
    void everyFrozenPackageWithItsLicenceChecksumAndAddress() throws Exception {
        Path doc = Files.createDirectories(tree.resolve("usr/share/doc/bash"));
        Files.writeString(doc.resolve("copyright"), """
                Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
                Upstream-Name: bash

                Files: *
                Copyright: 1987-2022 Free Software Foundation, Inc.
                License: GPL-3+

                Files: lib/readline/*
                License: GPL-2+
                """);
        Files.createDirectories(tree.resolve("usr/share/doc/libc6"));
        Files.writeString(tree.resolve("usr/share/doc/libc6/copyright"), "This is the Debian prepackaged version.\n");
        Path perl = Files.createDirectories(tree.resolve("usr/share/doc/perl-base"));
        Files.writeString(perl.resolve("copyright"), "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
                + "Files: *\nLicense: GPL-1+ or Artistic\n");
        List<Map<String, Object>> deps = new ArrayList<>(List.of(dep("bash", 0, "5.2.15", "2+b7", "amd64"),
                dep("libc6", 0, "2.36", "9+deb12u4", "amd64"), dep("perl-base", 0, "5.36.0", "7+deb12u1", "amd64"),
                dep("libstdc++6", 0, "12.2.0", "14", "amd64"), dep("adduser", 0, "3.134", "", "all"),
                dep("tzdata", 1, "2025b", "0+deb12u1", "all")));
        Map<String, String> licences = Copyrights.declared(tree, deps.stream().map(d -> (String) d.get("name")).toList());
        assertThat(licences).containsExactlyInAnyOrderEntriesOf(Map.of("bash", "GPL-3.0-or-later",
                "perl-base", "GPL-1.0-or-later OR Artistic-1.0-Perl"));
        String json = Sbom.document("0f6e0a4e-5a4e-4d8e-9a0e-1c1f2b3c4d5e",
                BlueprintParser.parseToml("name = \"site\"\nversion = \"1.2.3\"\n"), OutputType.QCOW2, deps, licences,
                1_700_000_000L);
        assertThat(spdxProblems(json)).isEmpty();
        // the check can fail: a package without its download location is not a valid SPDX 2.3 package
        assertThat(spdxProblems(json.replaceFirst("\"downloadLocation\" : \"http[^\"]*\",", ""))).isNotEmpty();
        JsonNode sbom = TestServer.JSON.readTree(json);
        assertThat(sbom.path("spdxVersion").asText()).isEqualTo("SPDX-2.3");
        assertThat(sbom.at("/creationInfo/created").asText()).isEqualTo("2023-11-14T22:13:20Z");
        List<String> names = new ArrayList<>();
        sbom.path("packages").forEach(p -> names.add(p.path("name").asText() + " " + p.path("versionInfo").asText()));
        assertThat(names).containsExactly("disk.qcow2 1.2.3", "bash 5.2.15-2+b7", "libc6 2.36-9+deb12u4",
                "perl-base 5.36.0-7+deb12u1", "libstdc++6 12.2.0-14", "adduser 3.134", "tzdata 1:2025b-0+deb12u1");
        JsonNode bash = sbom.path("packages").get(1);
        assertThat(bash.path("licenseDeclared").asText()).isEqualTo("GPL-3.0-or-later");
        assertThat(bash.at("/checksums/0/checksumValue").asText()).isEqualTo("ab".repeat(32));
        assertThat(bash.path("downloadLocation").asText()).endsWith("/bash.deb");
        assertThat(bash.at("/externalRefs/0/referenceLocator").asText()).startsWith("pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64");
        assertThat(sbom.path("packages").get(2).path("licenseDeclared").asText()).isEqualTo("NOASSERTION");
        assertThat(sbom.path("packages").get(4).path("SPDXID").asText()).matches("SPDXRef-[A-Za-z0-9.-]+");
        assertThat(sbom.path("relationships")).hasSize(deps.size() + 1);
    }

    @Test
    void aCopyrightFileLinkedOutOfTheTreeIsNotRead() throws Exception {
        Path outside = Files.createTempFile("copyright", "");
        Files.writeString(outside, "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: MIT\n");
        try {
            Files.createDirectories(tree.resolve("usr/share/doc/evil"));
            Files.createSymbolicLink(tree.resolve("usr/share/doc/evil/copyright"), outside);
            assertThat(Copyrights.declared(tree, List.of("evil", "../../../etc"))).isEmpty();
        } finally {
            Files.delete(outside);
        }
    }
}
