package dev.kiln.image;

import dev.kiln.depsolve.DepsFile;
import dev.kiln.store.ResultsDir;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.pipeline.ComposeProcess;
import dev.kiln.store.FileTrees;
import dev.kiln.testing.CliRun;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.operaton.bpm.engine.HistoryService;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real images through the API: the host's Debian sources for the base system, plus a local repository whose
 * package has a maintainer script and a systemd unit; the blueprint customizes users, groups, keys, hostname, time
 * zone and services. The images are read back with tools that are not ours (tar via Commons Compress, debugfs,
 * e2fsck), and two builds of the same compose must be identical.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + BuildTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + BuildTest.ROOT + "/apt", "kiln.compose.retries=1",
        // the tars' compression: the fastest (every setting is the same code; the default's figures are bench/build's)
        "kiln.image.xz-level=0"})
class BuildTest {

    static final String ROOT = "target/it/build";
    static final DebRepository REPO;
    static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKiln kiln@test";

    /** A host port the hostile package tries to reach, and a host directory it tries to write into. */
    static final ServerSocket HOST_PORT;
    static final Path HOST_DIR = Path.of(ROOT + "-host").toAbsolutePath();

    static {
        try {
            HOST_PORT = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            HOST_PORT.setSoTimeout(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        REPO = testRepository(ROOT, hostilePostinst());
    }

    /**
     * A postinst that tries every way out of the sandbox a package could take, each one's outcome a line of
     * {@code /var/lib/kiln-hostile/report} ("NAME refused" or "NAME ESCAPED"); it exits 0 either way.
     */
    static String hostilePostinst() {
        long pid = ProcessHandle.current().pid();
        String dir = HOST_DIR.toString();
        return """
                #!/bin/bash
                r=/var/lib/kiln-hostile/report
                mkdir -p /var/lib/kiln-hostile
                : > "$r"
                try() { local name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name ESCAPED" >> "$r"; else echo "$name refused" >> "$r"; fi; }
                try write-host-dir touch %2$s/direct
                try proc1-root touch /proc/1/root%2$s/proc1
                try proc-self-root touch /proc/self/root%2$s/self
                try double-chroot perl -e 'mkdir q(/kiln-jail); chroot(q(/kiln-jail)) or exit 1; chdir(q(..)) for 1..64; chroot(q(.)) or exit 1; open(my $f, q(>), q(%2$s/chroot)) or exit 1'
                try mount perl -e 'my ($s, $t, $y) = (q(none), q(/mnt), q(tmpfs)); syscall(165, $s, $t, $y, 0, 0) == 0 or exit 1'
                try bind-mount-proc perl -e 'my ($s, $t) = (q(/proc), q(/mnt)); syscall(165, $s, $t, 0, 4096, 0) == 0 or exit 1'
                try mknod-block mknod /tmp/kiln-sda b 8 0
                try mknod-char mknod /tmp/kiln-mem c 1 1
                try ptrace-service perl -e 'syscall(101, 16, %1$d, 0, 0) == 0 or exit 1'
                try signal-service kill -0 %1$d
                try write-sys sh -c 'echo 1 > /sys/kernel/mm/ksm/run'
                try write-proc-sys sh -c 'echo kiln-escaped > /proc/sys/kernel/hostname'
                try connect-host-port bash -c 'exec 3<>/dev/tcp/127.0.0.1/%3$d'
                try reach-network bash -c 'exec 3<>/dev/tcp/10.0.2.2/80'
                echo "uid $(id -u) done" >> "$r"
                exit 0
                """.formatted(pid, dir, HOST_PORT.getLocalPort());
    }

    /**
     * A fresh {@code root} with a served local repository holding {@code kiln-test-app} (a systemd unit, and a
     * postinst that leaves {@code /var/lib/kiln-test/postinst-ran}), and an apt configuration with it and the host's
     * own sources (the Debian base system).
     */
    static DebRepository testRepository(String rootDir) {
        return testRepository(rootDir, null);
    }

    /** As {@link #testRepository(String)}, with {@code kiln-hostile} (that postinst) when it is not null. */
    static DebRepository testRepository(String rootDir, String hostilePostinst) {
        FileSystemUtils.deleteRecursively(Path.of(rootDir).toFile());
        try {
            Path root = Files.createDirectories(Path.of(rootDir).toAbsolutePath());
            DebRepository repo = new DebRepository(root);
            repo.add("kiln-test-app", "1.0", List.of(),
                    Map.of("/usr/lib/systemd/system/kiln-test.service",
                            "[Unit]\nDescription=Kiln test\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
                            "/usr/share/doc/kiln-test-app/README", "test\n"),
                    "#!/bin/sh\nset -e\nmkdir -p /var/lib/kiln-test\necho \"configured $1\" > /var/lib/kiln-test/postinst-ran\n");
            // a package whose postinst fails: the compose says which package and script, and what it printed
            repo.add("kiln-broken", "1.0", List.of(), Map.of("/usr/share/doc/kiln-broken/README", "fails\n"),
                    "#!/bin/sh\necho broken-postinst-says-no\nexit 7\n");
            if (hostilePostinst != null) {
                repo.add("kiln-hostile", "1.0", List.of("Depends: perl-base, bash"),
                        Map.of("/usr/share/doc/kiln-hostile/README", "tries to escape\n"), hostilePostinst);
            }
            repo.publish().serve();
            TestServer.hostAndLocalApt(root, repo);
            return repo;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() throws IOException {
        HOST_PORT.close();
        FileSystemUtils.deleteRecursively(HOST_DIR.toFile());
        release(REPO, ROOT);
    }

    /** Stops the repository; the installed-tree and base caches of the test's state directory live on tmpfs: frees them. */
    static void release(DebRepository repo, String root) throws IOException {
        repo.close();
        FileTrees.delete(TreePlaces.tmpfsDir(Path.of(root, "state").toAbsolutePath().normalize(), "trees"));
        FileTrees.delete(TreePlaces.tmpfsDir(Path.of(root, "state").toAbsolutePath().normalize(), "bases"));
    }

    @Autowired
    HistoryService history;
    @LocalServerPort
    int port;
    TestServer server;

    /** The blueprint every image test builds: a package from the local repository, and customizations. */
    static final String BLUEPRINT = """
                name = "custom"
                description = "a customized image"
                version = "1.0.0"

                [[packages]]
                name = "kiln-test-app"
                version = "*"

                # lvm2: what an LVM layout adds (DiskTypesTest's), so that the LVM composes share this package set
                [[packages]]
                name = "lvm2"
                version = "*"

                [customizations]
                hostname = "kiln-test-host"

                [[customizations.user]]
                name = "alice"
                description = "Alice Kiln"
                key = "%s"
                groups = ["users", "builders"]
                uid = 1234
                expiredate = 20000
                force_password_reset = true

                [[customizations.group]]
                name = "builders"
                gid = 2345

                [customizations.timezone]
                timezone = "Europe/Paris"

                [customizations.services]
                enabled = ["kiln-test"]
                masked = ["apt-daily.timer"]

                [[customizations.filesystem]]
                mountpoint = "/var"
                minsize = "600 MiB"

                [[customizations.filesystem]]
                mountpoint = "/home"
                minsize = 104857600

                [[customizations.directories]]
                path = "/etc/kiln-test/conf.d"
                mode = "0750"
                user = "alice"
                group = "builders"
                ensure_parents = true

                [[customizations.files]]
                path = "/etc/kiln-test/conf.d/app.conf"
                mode = "640"
                user = "alice"
                group = 2345
                data = "greeting = \\"hello\\"\\n%%post\\n$(touch /tmp/kiln-data-ran)\\n"

                [[customizations.files]]
                path = "/root/notes.txt"
                data = "only data\\n"

                [[customizations.repositories]]
                id = "kiln-extra"
                name = "Kiln's extra packages"
                baseurls = ["http://apt.kiln.invalid/debian"]
                suites = ["stable"]
                components = ["main", "contrib"]
                gpgkeys = ['''%s''']
                priority = 600

                [customizations.cacerts]
                pem_certs = ['''%s''']

                [customizations.firewall]
                ports = ["8080:tcp", "8443:tcp"]

                [[customizations.firewall.zones]]
                name = "trusted"
                sources = ["192.0.2.0/24"]

                [[customizations.firewall.zones]]
                name = "drop"
                sources = ["198.51.100.7", "2001:db8::/32"]
                """.formatted(KEY, resource("repo-key.asc"), resource("test-ca.pem"));

    /** A file of src/test/resources/customize. */
    static String resource(String name) {
        try (var in = BuildTest.class.getResourceAsStream("/customize/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The blueprint's files, directories, apt source, certificate and firewall zones, as the image has them. */
    static void treeDataApplied(java.util.function.Function<String, String> debugfs) {
        assertThat(debugfs.apply("stat /etc/kiln-test/conf.d")).contains("User:  1234", "Group:  2345")
                .containsPattern("Mode: +0750");
        assertThat(debugfs.apply("cat /etc/kiln-test/conf.d/app.conf"))
                .isEqualTo("greeting = \"hello\"\n%post\n$(touch /tmp/kiln-data-ran)\n");
        assertThat(debugfs.apply("stat /etc/kiln-test/conf.d/app.conf")).contains("User:  1234", "Group:  2345")
                .containsPattern("Mode: +0640");
        assertThat(debugfs.apply("cat /root/notes.txt")).isEqualTo("only data\n");
        assertThat(debugfs.apply("stat /root/notes.txt")).contains("User:     0", "Group:     0")
                .containsPattern("Mode: +0644");
        assertThat(debugfs.apply("cat /etc/apt/sources.list.d/kiln-extra.sources")).isEqualTo(
                "# Written by Kiln from the blueprint's repository kiln-extra\nTypes: deb\n"
                + "URIs: http://apt.kiln.invalid/debian\nSuites: stable\nComponents: main contrib\n"
                + "Signed-By: /etc/apt/keyrings/kiln-extra.asc\n");
        assertThat(debugfs.apply("cat /etc/apt/keyrings/kiln-extra.asc")).isEqualTo(resource("repo-key.asc"));
        assertThat(debugfs.apply("cat /etc/apt/preferences.d/kiln-extra.pref"))
                .isEqualTo("Package: *\nPin: origin \"apt.kiln.invalid\"\nPin-Priority: 600\n");
        String ca = resource("test-ca.pem");
        String body = ca.substring(ca.indexOf('\n') + 1, ca.indexOf("-----END")).replace("\n", "");
        assertThat(debugfs.apply("ls /usr/local/share/ca-certificates")).contains("kiln-");
        assertThat(debugfs.apply("cat /etc/ssl/certs/ca-certificates.crt").replace("\n", "")).contains(body);
        assertThat(debugfs.apply("cat /etc/nftables.conf")).contains("ip saddr 192.0.2.0/24 accept",
                "ip saddr 198.51.100.7 drop", "ip6 saddr 2001:db8::/32 drop", "tcp dport 8080 accept",
                "tcp dport 8443 accept");
        assertThat(Path.of("/tmp/kiln-data-ran")).as("a file's content is never run").doesNotExist();
    }

    @BeforeEach
    void blueprint() {
        server = new TestServer(port, Path.of(ROOT, "state"));
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", BLUEPRINT).statusCode()).isEqualTo(200);
    }

    String build(String type) throws Exception {
        String uuid = server.start("custom", type, 0);
        String end = server.await(uuid, 600_000, "FINISHED", "FAILED");
        Path log = Path.of(ROOT, "state/results", uuid, "logs/combined.log");
        assertThat(end).as(Files.exists(log) ? Files.readString(log) : "no log").isEqualTo("FINISHED");
        return uuid;
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    @Test
    @Order(2)
    void ext4FilesystemIsCleanAndCustomized() throws Exception {
        String uuid = build("ext4-filesystem");
        Path image = Path.of(ROOT, "state/results", uuid, "filesystem.img").toAbsolutePath();
        run("e2fsck", "-fn", image.toString());
        assertThat(Files.readString(image.resolveSibling("logs/combined.log"))).as("the blueprint's mount points")
                .contains("filesystem: ext4-filesystem holds one tree; the mount points /home, /var get file systems "
                        + "of their own on disk types only");
        assertThat(debugfs(image, "cat /var/lib/kiln-test/postinst-ran")).as("one tree").isEqualTo("configured configure\n");
        assertThat(debugfs(image, "cat /etc/hostname")).isEqualTo("kiln-test-host\n");
        assertThat(debugfs(image, "cat /etc/passwd")).contains("alice:x:1234:").contains("Alice Kiln");
        assertThat(debugfs(image, "cat /etc/group")).containsPattern("builders:x:2345:.*alice").containsPattern("users:x:100:.*alice");
        assertThat(debugfs(image, "cat /home/alice/.ssh/authorized_keys")).isEqualTo(KEY + "\n");
        assertThat(debugfs(image, "stat /etc/localtime")).contains("/usr/share/zoneinfo/Europe/Paris");
        assertThat(debugfs(image, "ls -l /etc/systemd/system/multi-user.target.wants")).contains("kiln-test.service");
        assertThat(debugfs(image, "cat /var/lib/kiln-test/postinst-ran")).isEqualTo("configured configure\n");
        assertThat(debugfs(image, "stat /etc/machine-id")).contains("Size: 0");
        assertThat(debugfs(image, "ls /usr/sbin")).doesNotContain("policy-rc.d");
        treeDataApplied(request -> {
            try {
                return debugfs(image, request);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(Path.of(ROOT).toAbsolutePath().toString());
        assertThat(Path.of(ROOT, "state/results", uuid, "compose/tree")).doesNotExist();
        String again = build("ext4-filesystem"); // the same bytes from a second compose (the tree from the cache)
        assertThat(DebRepository.sha256(Path.of(ROOT, "state/results", again, "filesystem.img")))
                .isEqualTo(DebRepository.sha256(image));
    }

    static String debugfs(Path image, String request) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", request, image.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /**
     * The compose's SBOM: valid for the SPDX project's library, exactly the frozen set (name and version), each
     * package's declared licence the one its copyright file in the image names; served by the SBOM route, in the
     * metadata tar, and saved by {@code kiln compose sbom}.
     */
    void sbomListsTheFrozenSetAndIsValid(String uuid, Map<String, String> files) throws Exception {
        Path results = Path.of(ROOT, "state/results", uuid);
        String json = Files.readString(results.resolve(ResultsDir.SBOM));
        assertThat(SbomTest.spdxProblems(json)).isEmpty();
        JsonNode sbom = TestServer.JSON.readTree(json);
        java.util.Set<String> listed = new java.util.TreeSet<>();
        sbom.path("packages").forEach(p -> {
            if (!p.path("SPDXID").asText().equals("SPDXRef-Image")) {
                listed.add(p.path("name").asText() + " " + p.path("versionInfo").asText());
            }
        });
        java.util.Set<String> frozen = new java.util.TreeSet<>();
        for (Map<String, Object> d : DepsFile.read(Files.readString(results.resolve(ResultsDir.DEPS)))) {
            String f = DepsFile.frozen(d);
            frozen.add(d.get("name") + " " + f.substring(0, f.lastIndexOf('.')));
        }
        assertThat(listed).isEqualTo(frozen);
        JsonNode bash = null;
        for (JsonNode p : sbom.path("packages")) {
            if (p.path("name").asText().equals("bash")) {
                bash = p;
            }
        }
        assertThat(bash).isNotNull();
        assertThat(files.get("./usr/share/doc/bash/copyright")).contains("License: GPL-3+");
        assertThat(bash.path("licenseDeclared").asText()).isEqualTo("GPL-3.0-or-later");
        HttpResponse<String> served = server.call("GET", "/api/kiln/compose/sbom/" + uuid, null, null);
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(served.body()).isEqualTo(json);
        Path dir = Files.createDirectories(Path.of(ROOT, "sbom-cli").toAbsolutePath());
        CliRun saved = CliRun.of(dir, CliRun.tcp(port, Path.of(ROOT, "state")), "compose", "sbom", uuid);
        assertThat(saved.out()).isEqualTo(uuid + "-" + ResultsDir.SBOM + "\n");
        assertThat(Files.readString(dir.resolve(uuid + "-" + ResultsDir.SBOM))).isEqualTo(json);
    }

    @Test
    @Order(1)
    void tarIsCustomizedAndTwoBuildsAreIdentical() throws Exception {
        String first = server.start("custom", "tar", 0);
        List<JsonNode> reports = followProgress(first);
        assertThat(server.status(first)).isEqualTo("FINISHED");
        int packages = DepsFile.read(Files.readString(Path.of(ROOT, "state/results", first, ResultsDir.DEPS))).size();
        progressAndMetricsOfAColdBuild(first, reports, packages);
        Path image = Path.of(ROOT, "state/results", first, "root.tar.xz");
        Map<String, String> files = new HashMap<>();
        Map<String, TarArchiveEntry> entries = new HashMap<>();
        try (InputStream in = new TarArchiveInputStream(new XZCompressorInputStream(Files.newInputStream(image)))) {
            TarArchiveInputStream tar = (TarArchiveInputStream) in;
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                entries.put(e.getName(), e);
                if (e.isFile() && e.getSize() < 1_000_000 && !e.isSymbolicLink()) {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    tar.transferTo(b);
                    files.put(e.getName(), b.toString(StandardCharsets.UTF_8));
                }
            }
        }
        assertThat(files.get("./etc/hostname")).isEqualTo("kiln-test-host\n");
        assertThat(files.get("./etc/passwd")).contains("alice:x:1234:");
        // expiredate: shadow's eighth field; force_password_reset: the last change on day 0 (change at first login)
        assertThat(files.get("./etc/shadow")).containsPattern("(?m)^alice:[^:]*:0:[^:]*:[^:]*:[^:]*:[^:]*:20000:");
        assertThat(entries.get("./etc/systemd/system/apt-daily.timer").getLinkName()).as("masked").isEqualTo("/dev/null");
        sbomListsTheFrozenSetAndIsValid(first, files);
        assertThat(files.get("./home/alice/.ssh/authorized_keys")).isEqualTo(KEY + "\n");
        assertThat(entries.get("./home/alice/.ssh/authorized_keys").getMode() & 0777).isEqualTo(0600);
        assertThat(entries.get("./home/alice/.ssh/authorized_keys").getLongUserId()).isEqualTo(1234);
        assertThat(entries.get("./etc/localtime").getLinkName()).isEqualTo("/usr/share/zoneinfo/Europe/Paris");
        assertThat(entries.get("./etc/systemd/system/multi-user.target.wants/kiln-test.service").getLinkName())
                .isEqualTo("/usr/lib/systemd/system/kiln-test.service");
        assertThat(files.get("./var/lib/kiln-test/postinst-ran")).isEqualTo("configured configure\n");
        assertThat(files.get("./etc/machine-id")).isEmpty();
        assertThat(entries).doesNotContainKey("./usr/sbin/policy-rc.d");
        assertThat(entries.keySet()).noneMatch(n -> n.startsWith("./etc/ssh/ssh_host_") || n.startsWith("./var/cache/kiln"));
        assertThat(entries.get("./usr/bin/su").getMode() & 04000).as("setuid kept").isEqualTo(04000);
        assertThat(files.get("./var/lib/dpkg/status")).contains("Package: kiln-test-app\nStatus: install ok installed");

        assertThat(Files.readString(Path.of(ROOT, "state/results", first, "logs/combined.log"))).contains("installed ");
        // the second compose starts from the cached installed tree, and must give the very same bytes
        String second = server.start("custom", "tar", 0);
        List<JsonNode> again = followProgress(second);
        assertThat(server.status(second)).isEqualTo("FINISHED");
        assertThat(Files.readString(Path.of(ROOT, "state/results", second, "logs/combined.log")))
                .contains("taken from the cache");
        // its remainder is estimated from the phases of the first (same package set, same type)
        assertThat(again).as("reports of the second build").anyMatch(r -> r.has("eta_seconds"));
        assertThat(again.stream().map(r -> r.path("phase").asText()).distinct().toList())
                .contains("tree", "customize", "compress").doesNotContain("configure");
        assertThat(DebRepository.sha256(Path.of(ROOT, "state/results", second, "root.tar.xz")))
                .isEqualTo(DebRepository.sha256(image));
        // without the installed tree, the third starts from the cached Essential base: the same bytes again
        Path state = Path.of(ROOT, "state").toAbsolutePath().normalize();
        FileTrees.delete(TreePlaces.tmpfsDir(state, "trees"));
        FileTrees.delete(state.resolve("cache/trees"));
        String third = build("tar");
        assertThat(Files.readString(Path.of(ROOT, "state/results", third, "logs/combined.log")))
                .contains("Essential base").doesNotContain("installed tree of this package set", "unpacked ");
        assertThat(DebRepository.sha256(Path.of(ROOT, "state/results", third, "root.tar.xz")))
                .isEqualTo(DebRepository.sha256(image));
    }

    /**
     * Follows a compose to its end as {@code --wait} does (the long poll with {@code progress=SEQ}); answers every
     * progress report it was given, and checks that reports are pushed: a new one ends the wait at once.
     */
    List<JsonNode> followProgress(String uuid) throws Exception {
        List<JsonNode> reports = new java.util.ArrayList<>();
        long next = 0;
        long seq = 0;
        long quick = 0;
        long deadline = System.currentTimeMillis() + 600_000;
        while (System.currentTimeMillis() < deadline) {
            long t0 = System.nanoTime();
            JsonNode part = server.get("/api/kiln/compose/log/" + uuid + "?after=" + next + "&wait=20&progress=" + seq);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            next = part.path("next").asLong();
            JsonNode p = part.path("progress");
            if (p.isObject() && p.path("seq").asLong() != seq) {
                seq = p.path("seq").asLong();
                reports.add(p);
                quick += part.path("text").asText().isEmpty() && ms < 5_000 ? 1 : 0;
            }
            if (part.path("ended").asBoolean()) {
                assertThat(quick).as("reports that ended a wait without a log line: pushed, not polled").isPositive();
                return reports;
            }
        }
        throw new AssertionError("compose " + uuid + " did not end");
    }

    /** What a cold build reported as it went, what {@code metrics.json} kept, and how the CLI shows both. */
    void progressAndMetricsOfAColdBuild(String uuid, List<JsonNode> reports, int packages) throws Exception {
        assertThat(reports.stream().map(r -> r.path("phase").asText()).distinct().toList())
                .containsSubsequence("unpack", "configure", "customize", "compress");
        JsonNode configured = reports.stream().filter(r -> r.path("phase").asText().equals("configure"))
                .reduce((a, b) -> b).orElseThrow();
        // every package of the set, or those besides the Essential set when its installed base came from the cache
        int total = configured.path("total").asInt();
        assertThat(total).isBetween(1, packages);
        assertThat(configured.path("done").asInt()).isBetween(1, total);
        assertThat(configured.path("step").asText()).isEqualTo("build");
        assertThat(reports).allMatch(r -> r.path("done").asLong() <= Math.max(r.path("total").asLong(), 100));

        JsonNode m = server.get("/api/kiln/compose/metrics/" + uuid);
        assertThat(m.path("compose").asText()).isEqualTo(uuid);
        List<String> steps = new java.util.ArrayList<>();
        m.path("steps").forEach(s -> steps.add(s.path("step").asText() + " " + s.path("outcome").asText()));
        assertThat(steps).containsSubsequence("depsolve done", "kickstart done", "build done", "finalize done");
        double build = 0;
        double phases = 0;
        for (JsonNode s : m.path("steps")) {
            build += s.path("step").asText().equals("build") ? s.path("seconds").asDouble() : 0;
        }
        long configureCount = 0;
        long compressBytes = 0;
        for (JsonNode p : m.path("phases")) {
            phases += p.path("seconds").asDouble();
            if (p.path("phase").asText().equals("configure")) {
                configureCount = Math.max(configureCount, p.path("count").asLong());
            }
            if (p.path("phase").asText().equals("compress")) {
                compressBytes = p.path("bytes").asLong();
            }
        }
        assertThat(configureCount).as("configured at the phase's end").isEqualTo(total);
        assertThat(compressBytes).as("the tar's bytes fed to xz").isPositive();
        assertThat(phases).as("the phases are within the build step").isLessThanOrEqualTo(build + 0.01).isPositive();
        assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, ResultsDir.METRICS))).contains("\"phases\"");

        CliRun table = cli("compose", "metrics", uuid);
        assertThat(table.exit()).isZero();
        assertThat(table.out()).startsWith("STEP ").containsPattern("\nbuild +\\d+\\.\\d\\d\n")
                .containsPattern("\n +configure +\\d+\\.\\d\\d +" + total + "\n").containsPattern("\ntotal +\\d+\\.\\d\\d\n");
        assertThat(cli("--json", "compose", "metrics", uuid).out()).contains("\"phases\"");
    }

    @Test
    @Order(3)
    void aBuildCancelledInTheChrootLeavesNoProcessNoMountAndNoResults() throws Exception {
        // a %post that takes its time, so that the cancel finds it running in the sandbox
        Path template = templateWithPost("ext4-filesystem", "sleep 120");
        try {
            String uuid = server.start("custom", "ext4-filesystem", 0);
            Path log = Path.of(ROOT, "state/results", uuid, "logs/combined.log");
            long deadline = System.currentTimeMillis() + 300_000;
            while (System.currentTimeMillis() < deadline
                    && !(Files.exists(log) && Files.readString(log).contains("Running in the sandbox: /bin/sh -e /tmp/kiln-post"))) {
                Thread.sleep(20);
            }
            Thread.sleep(200);
            assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("/sleep"))
                    .count()).as("the %post is running").isPositive();
            assertThat(server.call("DELETE", "/api/v1/compose/cancel/" + uuid, null, null).statusCode()).isEqualTo(200);
            assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(p -> p.info().command().orElse("?")).toList())
                    .isEmpty();
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(Path.of(ROOT).toAbsolutePath().toString());
            assertThat(Path.of(ROOT, "state/results", uuid)).doesNotExist();
        } finally {
            Files.delete(template);
        }
    }

    CliRun cli(String... args) {
        return CliRun.of(Path.of(ROOT).toAbsolutePath(), CliRun.tcp(port, Path.of(ROOT, "state")), args);
    }

    /**
     * What a user sees of a failed compose: {@code --wait}'s last lines, {@code compose info} (text and JSON),
     * {@code compose status}, the failed listing: the step and {@code reason}, then the lines the failure printed.
     */
    String failedSaying(CliRun waited, String step, String reason, String printed) {
        assertThat(waited.exit()).as(waited.out() + waited.err()).isEqualTo(1);
        String uuid = waited.out().substring("Compose ".length(), "Compose ".length() + 36);
        assertThat(waited.out()).contains(uuid + " FAILED").containsPattern("\nError: " + step + ": " + reason + "\n")
                .contains("\n    " + printed);
        JsonNode error = server.get("/api/v1/compose/info/" + uuid).path("error");
        assertThat(error.path("step").asText()).isEqualTo(step);
        assertThat(error.path("reason").asText()).containsPattern("^" + reason + "$");
        assertThat(error.path("last_lines").asText()).contains(printed);
        CliRun info = cli("compose", "info", uuid);
        assertThat(info.out()).containsPattern("^" + uuid + " FAILED [^\n]*\nError: " + step + ": " + reason + "\n")
                .contains("    " + printed + "\n").contains("Packages:\n");
        assertThat(cli("--json", "compose", "info", uuid).out()).contains("\"error\"").contains(printed);
        assertThat(cli("compose", "status").out().lines().filter(l -> l.startsWith(uuid)).findFirst().orElseThrow())
                .containsPattern(" FAILED .* " + step + ": " + reason + "$");
        assertThat(server.get("/api/v1/compose/failed").toString()).contains("\"step\":\"" + step + "\"");
        return uuid;
    }

    @Test
    @Order(4)
    void aPostScriptThatFailsFailsTheComposeAtOnceWithItsOutput() throws Exception {
        Path template = templateWithPost("tar", "echo the-post-script-says-no\nexit 3");
        try {
            String uuid = failedSaying(cli("compose", "start", "custom", "tar", "--wait"), "build",
                    "%post script \\d+ of \\d+ \\(final-kickstart.ks\\) exited with code 3", "the-post-script-says-no");
            var instance = history.createHistoricProcessInstanceQuery().processInstanceBusinessKey(uuid).singleResult();
            assertThat(instance.getEndActivityId()).as("a business failure, not an incident after retries")
                    .isEqualTo(ComposeProcess.END_FAILED);
            assertThat(history.createHistoricExternalTaskLogQuery().processInstanceId(instance.getId()).failureLog()
                    .count()).as("not retried").isZero();
            assertThat(Files.readString(Path.of(ROOT, "state/results", uuid, "logs/combined.log")))
                    .contains("exited with code 3", "the-post-script-says-no").doesNotContain("setpriv failed");
        } finally {
            Files.delete(template);
        }
    }

    @Test
    @Order(4)
    void aPackageWhosePostinstFailsIsNamedWithWhatItPrinted() throws Exception {
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml",
                "name = \"broken\"\n[[packages]]\nname = \"kiln-broken\"\n").statusCode()).isEqualTo(200);
        failedSaying(cli("compose", "start", "broken", "tar", "--wait"), "build",
                "package kiln-broken: its postinst exited with status 7 \\(dpkg --install\\)", "broken-postinst-says-no");
    }

    @Test
    @Order(5)
    void aHostilePackageCannotLeaveTheSandbox() throws Exception {
        Files.createDirectories(HOST_DIR);
        String mountsBefore = Files.readString(Path.of("/proc/self/mountinfo"));
        String hostnameBefore = Files.readString(Path.of("/proc/sys/kernel/hostname"));
        String ksmBefore = readIfThere(Path.of("/sys/kernel/mm/ksm/run"));
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml",
                "name = \"hostile\"\n[[packages]]\nname = \"kiln-hostile\"\n").statusCode()).isEqualTo(200);
        String uuid = server.start("hostile", "tar", 0);
        String end = server.await(uuid, 600_000, "FINISHED", "FAILED");
        Path log = Path.of(ROOT, "state/results", uuid, "logs/combined.log");
        assertThat(end).as(Files.readString(log)).isEqualTo("FINISHED");
        String report = null;
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(
                Files.newInputStream(Path.of(ROOT, "state/results", uuid, "root.tar.xz"))))) {
            for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
                if (e.getName().equals("./var/lib/kiln-hostile/report")) {
                    report = new String(tar.readAllBytes(), StandardCharsets.UTF_8);
                }
            }
        }
        System.out.println("hostile postinst report:\n" + report);
        assertThat(report).isNotNull().contains("uid 0 done");
        List<String> escapes = List.of("write-host-dir", "proc1-root", "proc-self-root", "double-chroot", "mount",
                "bind-mount-proc", "mknod-block", "mknod-char", "ptrace-service", "signal-service", "write-sys",
                "write-proc-sys", "connect-host-port", "reach-network");
        for (String escape : escapes) {
            assertThat(report).as(escape).contains(escape + " refused\n");
        }
        assertThat(report).doesNotContain("ESCAPED");
        // and the host is unchanged: no file, no mount, no process, nobody connected
        try (var files = Files.list(HOST_DIR)) {
            assertThat(files.toList()).isEmpty();
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).isEqualTo(mountsBefore);
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList()).isEmpty();
        assertThat(Files.readString(Path.of("/proc/sys/kernel/hostname"))).isEqualTo(hostnameBefore);
        assertThat(readIfThere(Path.of("/sys/kernel/mm/ksm/run"))).isEqualTo(ksmBefore);
        try {
            HOST_PORT.accept().close();
            throw new AssertionError("the sandbox connected to a host port");
        } catch (SocketTimeoutException expected) {
            // nobody came
        }
    }

    @Test
    @Order(7)
    void aFullDiskFailsTheComposeAndTheServiceBuildsAgainOnceThereIsRoom() throws Exception {
        Path results = Path.of(ROOT, "state/results").toAbsolutePath();
        run("mount", "-t", "tmpfs", "-o", "size=24m,mode=0750", "kiln-full-disk", results.toString());
        String full;
        try {
            full = server.start("custom", "tar", 0); // the tree is cached; its tar does not fit in 24 MiB
            assertThat(server.await(full, 600_000, "FINISHED", "FAILED")).isEqualTo("FAILED");
            var instance = history.createHistoricProcessInstanceQuery().processInstanceBusinessKey(full).singleResult();
            assertThat(instance.getEndActivityId()).as("failed at once, not retried").isEqualTo(ComposeProcess.END_FAILED);
            assertThat(String.valueOf(history.createHistoricVariableInstanceQuery().processInstanceId(instance.getId())
                    .variableName("errorMessage").singleResult().getValue())).contains("no space left on device");
            assertThat(server.call("GET", "/api/status", null, null).statusCode()).isEqualTo(200);
        } finally {
            run("umount", results.toString());
        }
        String again = build("tar"); // room again: the same workers build
        assertThat(Path.of(ROOT, "state/results", again, "root.tar.xz")).exists();
    }

    /** A user's template for {@code type} (it wins over the jar's) with one {@code %post}; delete it when done. */
    static Path templateWithPost(String type, String post) throws IOException {
        Path template = Path.of(ROOT, "state/share/composer", type + ".ks");
        Files.createDirectories(template.getParent());
        Files.writeString(template, "lang en_US.UTF-8\nkeyboard us\ntimezone UTC\nrootpw --lock\nfirewall --disabled\n"
                + "%packages\n%end\n%post\n" + post + "\n%end\n");
        return template;
    }

    static String readIfThere(Path file) throws IOException {
        return Files.isReadable(file) ? Files.readString(file) : "";
    }

    @Test
    @Order(6)
    void anEngineStartWithOnlyBlueprintAndTypeBuildsLikeAWeldrCompose() throws Exception {
        String password = Files.readString(Path.of(ROOT, "state/engine/admin-password")).strip();
        var http = HttpClient.newHttpClient();
        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/engine-rest/process-definition/key/compose/start"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        ("admin:" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"variables\": {\"blueprint\": {\"value\": \"custom\"}, \"type\": {\"value\": \"tar\"}}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String uuid = TestServer.JSON.readTree(r.body()).path("businessKey").asText();
        String end = server.await(uuid, 600_000, "FINISHED", "FAILED");
        Path results = Path.of(ROOT, "state/results", uuid);
        assertThat(end).as(Files.readString(results.resolve("logs/combined.log"))).isEqualTo("FINISHED");
        try (var files = Files.list(results)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("COMMIT",
                    "STATUS", "blueprint.toml", "config.toml", "deps.toml", "final-kickstart.ks", "frozen.toml", "logs",
                    "metrics.json", "root.tar.xz", "sbom.spdx.json", "tar.ks", "times.toml");
        }
        assertThat(Files.readString(results.resolve("final-kickstart.ks"))).contains("network --hostname=kiln-test-host");
    }
}
