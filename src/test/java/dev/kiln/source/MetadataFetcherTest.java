package dev.kiln.source;

import dev.kiln.debian.Pkg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.testing.DebRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metadata of a real signed repository over real HTTP: signatures, checksums, cache and outages. */
class MetadataFetcherTest {

    @TempDir
    Path dir;
    DebRepository repo;

    @BeforeEach
    void repository() throws Exception {
        repo = new DebRepository(dir).add("hello", "1.0-1", "Depends: libhello").add("libhello", "1.0-1")
                .publish().serve();
    }

    @AfterEach
    void stop() {
        repo.close();
    }

    Source source(boolean checkGpg, List<String> keys) {
        return new Source("local", "local", Source.DEB, repo.url(), List.of(repo.suite), List.of("main"), List.of(),
                checkGpg, true, keys, List.of(), null, false, List.of());
    }

    List<Pkg> load(MetadataFetcher fetcher, Source source) {
        List<Pkg> all = new ArrayList<>();
        fetcher.load(source, "amd64", all::add);
        return all;
    }

    @Test
    void aSignedRepositoryLoadsWithEverythingTheBuildNeeds() {
        List<Pkg> pkgs = load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString())));
        assertThat(pkgs).extracting(p -> p.name).containsExactlyInAnyOrder("hello", "libhello");
        Pkg hello = pkgs.stream().filter(p -> p.name.equals("hello")).findFirst().orElseThrow();
        assertThat(hello.url()).isEqualTo(repo.url() + "pool/main/hello_1.0-1_amd64.deb");
        assertThat(hello.sha256).matches("[0-9a-f]{64}");
        assertThat(hello.size).isPositive();
        assertThat(hello.summary).isEqualTo("test package hello");
    }

    @Test
    void anUnchangedIndexIsNotDownloadedAgain() {
        load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString())));
        assertThat(repo.requestsFor("Packages.xz")).isEqualTo(1);
        List<Pkg> again = load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString())));
        assertThat(again).hasSize(2);
        assertThat(repo.requestsFor("Packages.xz")).isEqualTo(1);
    }

    @Test
    void aBadSignatureIsRejected() throws Exception {
        Path inRelease = repo.root.resolve("dists/stable/InRelease");
        Files.writeString(inRelease, Files.readString(inRelease).replace("Origin: Kiln tests", "Origin: Evil tests"));
        assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString()))))
                .isInstanceOf(SourceException.class).hasMessageContaining("source local").hasMessageContaining("bad signature");
    }

    @Test
    void anUnknownKeyIsRejected() throws Exception {
        Path otherDir = Files.createDirectories(dir.resolve("other"));
        try (DebRepository other = new DebRepository(otherDir)) {
            assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("cache")),
                    source(true, List.of(other.keyring.toString()))))
                    .hasMessageContaining("source local").hasMessageContaining("unknown key");
        }
    }

    @Test
    void aTamperedPackagesFileIsRejected() throws Exception {
        Path xz = repo.root.resolve("dists/stable/main/binary-amd64/Packages.xz");
        byte[] bytes = Files.readAllBytes(xz);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(xz, bytes);
        assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString()))))
                .hasMessageContaining("source local").hasMessageContaining("does not match the SHA256");
    }

    @Test
    void aRepositoryThatIsDownKeepsTheLastGoodCacheUsable() {
        MetadataFetcher fetcher = new MetadataFetcher(dir.resolve("cache"));
        Source source = source(true, List.of(repo.keyring.toString()));
        load(fetcher, source);
        repo.stop();
        assertThat(load(fetcher, source)).hasSize(2);
        assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("empty-cache")), source))
                .hasMessageContaining("source local").hasMessageContaining("cannot fetch");
    }

    @Test
    void aDetachedSignatureWorksWhenThereIsNoInRelease() throws Exception {
        Files.delete(repo.root.resolve("dists/stable/InRelease"));
        assertThat(load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString())))).hasSize(2);
    }

    @Test
    void checkGpgNeedsAKeyring() {
        assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of())))
                .hasMessageContaining("names no keyring");
        assertThat(load(new MetadataFetcher(dir.resolve("cache2")), source(false, List.of()))).hasSize(2);
    }

    @Test
    void anExpiredReleaseIsRefusedAsAptRefusesIt() throws Exception {
        repo.releaseFields = "Valid-Until: Sat, 06 Dec 2025 08:31:04 UTC\n";
        repo.publish();
        assertThatThrownBy(() -> load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString()))))
                .hasMessageContaining("source local").hasMessageContaining("expired").hasMessageContaining("Valid-Until");
        repo.releaseFields = "Valid-Until: Fri, 01 Jan 2100 00:00:00 UTC\n";
        repo.publish();
        assertThat(load(new MetadataFetcher(dir.resolve("cache")), source(true, List.of(repo.keyring.toString())))).hasSize(2);
    }

    @Test
    void metadataFetchedWithoutCheckingIsVerifiedWhenCheckingIsTurnedOn() throws Exception {
        Path inRelease = repo.root.resolve("dists/stable/InRelease");
        Files.writeString(inRelease, Files.readString(inRelease).replace("Origin: Kiln tests", "Origin: Evil tests"));
        MetadataFetcher fetcher = new MetadataFetcher(dir.resolve("cache"));
        assertThat(load(fetcher, source(false, List.of()))).hasSize(2); // unchecked: the tampered file is read
        Source checked = source(true, List.of(repo.keyring.toString()));
        assertThatThrownBy(() -> load(fetcher, checked)).hasMessageContaining("bad signature");
        repo.stop(); // nor is the unchecked copy used as the "last good" one when the repository is down
        assertThatThrownBy(() -> load(fetcher, checked))
                .hasMessageContaining("cannot fetch");
    }
}
