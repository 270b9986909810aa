package dev.kiln.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.boot.BootTester;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.output.OutputType;
import dev.kiln.source.Distros;
import dev.kiln.store.FileTrees;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The example-http-server blueprint, from the host's own Debian sources, boots and serves HTTP 200 from its web
 * server on a forwarded loopback port: as qcow2 with /var and /home of their own (the compose's own boot-test step,
 * UEFI), as partitioned-disk on LVM under SeaBIOS (the two share one package set: one install), and for the other
 * Debian release as live-iso (boot-test step, UEFI). Three boots of two package sets, to keep CI short. Under TCG
 * each boot takes half a minute to three minutes; the times are printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + BootTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=", "kiln.compose.retries=1",
        "kiln.boot-test.firmware=uefi", "kiln.boot-test.timeout-seconds=600"})
class BootTest {

    static final String ROOT = "target/it/boot";

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    @AfterAll
    static void freeTrees() throws IOException {
        FileTrees.delete(TreePlaces.tmpfsDir(Path.of(ROOT, "state").toAbsolutePath().normalize(), "trees"));
        FileTrees.delete(TreePlaces.tmpfsDir(Path.of(ROOT, "state").toAbsolutePath().normalize(), "bases"));
    }

    @LocalServerPort
    int port;

    /** The compose whose image the test is checking: deleted after each test (the composes started ahead wait). */
    String last;

    @AfterEach
    void discard() {
        if (last != null) {
            new TestServer(port, Path.of(ROOT, "state")).delete(last);
            last = null;
        }
    }

    Path compose(String type, boolean bootTest) throws Exception {
        return compose("example-http-server", type, bootTest);
    }

    /**
     * Composes started ahead (by the first test, all at once): the engine builds them one after the other while the
     * compose before boots in QEMU, so that builds and boots overlap. Blueprint/type → UUID.
     */
    static final java.util.Map<String, String> AHEAD = new java.util.concurrent.ConcurrentHashMap<>();

    /** Pushes the blueprints of every test and starts their composes, in the tests' order. */
    void startAllAhead() throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        String other = otherRelease();
        for (String toml : List.of(mounts("example-http-server-mounts"), lvm(), otherReleaseExample(other))) {
            assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", toml).statusCode()).isEqualTo(200);
        }
        for (String[] c : List.of(new String[] {"example-http-server-mounts", "qcow2", "true"},
                new String[] {"example-http-server-lvm", "partitioned-disk", "false"},
                new String[] {"example-http-server-" + other, "live-iso", "true"})) {
            AHEAD.put(c[0] + "/" + c[1], server.start(c[0], c[1], 0, ", \"boot_test\": " + c[2]));
        }
    }

    Path compose(String blueprint, String type, boolean bootTest) throws Exception {
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        String ahead = AHEAD.remove(blueprint + "/" + type);
        String uuid = ahead != null ? ahead : server.start(blueprint, type, 0, ", \"boot_test\": " + bootTest);
        last = uuid;
        Path dir = Path.of(ROOT, "state/results", uuid).toAbsolutePath();
        if (bootTest) { // while QEMU runs, the compose is RUNNING
            long deadline = System.currentTimeMillis() + 1_200_000;
            while (System.currentTimeMillis() < deadline && !Files.readString(dir.resolve("logs/combined.log"))
                    .contains("Starting: qemu-system")) {
                Thread.sleep(200);
            }
            assertThat(server.status(uuid)).isIn("RUNNING", "FINISHED");
        }
        String end = server.await(uuid, 1_500_000, "FINISHED", "FAILED");
        String log = Files.readString(dir.resolve("logs/combined.log"));
        assertThat(end).as(log).isEqualTo("FINISHED");
        if (bootTest) {
            String line = log.lines().filter(l -> l.contains("boot test: ")).findFirst().orElse("no boot test line");
            System.out.println("BOOT " + type + " (compose step): " + line.substring(line.indexOf("boot test: ")));
            assertThat(line).contains("boot test: PASSED").contains("HTTP 200");
            assertThat(dir.resolve("logs/boot-test.log")).isNotEmptyFile();
        }
        return dir.resolve(OutputType.byId(type).orElseThrow().imageName());
    }

    /**
     * The example with {@code /var} and {@code /home} on partitions of their own, as qcow2 (the compose's own boot
     * test, UEFI): it boots and serves, and a unit of the blueprint's ({@code files} and {@code services}) prints
     * from inside the guest, on the serial console, where each ext4 file system is mounted.
     */
    @Test
    @Order(1)
    void qcow2WithVarAndHomeOfTheirOwnBootsAndServesHttp() throws Exception {
        startAllAhead();
        Path image = compose("example-http-server-mounts", "qcow2", true);
        String serial = Files.readString(image.resolveSibling("logs/boot-test.log"), StandardCharsets.ISO_8859_1);
        assertThat(serial).as("findmnt in the guest").containsPattern("(?m)^/ ext4 root /dev/\\S+")
                .containsPattern("(?m)^/var ext4 var /dev/\\S+").containsPattern("(?m)^/home ext4 home /dev/\\S+");
    }

    /**
     * The example with /var and /home of their own and a unit ({@code files}, {@code services}) that prints, on the
     * serial console, where each ext4 file system is mounted and from which device.
     */
    static String mounts(String name) throws IOException {
        return example().replace("name = \"example-http-server\"", "name = \"" + name + "\"")
                + """

                # what an LVM layout adds: the raw and the LVM variants share one package set (one install)
                [[packages]]
                name = "lvm2"
                version = "*"

                [customizations.services]
                enabled = ["kiln-mounts"]

                [[customizations.filesystem]]
                mountpoint = "/var"
                minsize = "1 GiB"

                [[customizations.filesystem]]
                mountpoint = "/home"
                minsize = "200 MiB"

                [[customizations.files]]
                path = "/etc/systemd/system/kiln-mounts.service"
                data = '''
                [Unit]
                Description=Kiln boot test: where the file systems are mounted
                After=local-fs.target
                Before=apache2.service

                [Service]
                Type=oneshot
                ExecStart=/usr/bin/findmnt -rn -t ext4 -o TARGET,FSTYPE,LABEL,SOURCE
                StandardOutput=tty
                TTYPath=/dev/ttyS0

                [Install]
                WantedBy=multi-user.target
                '''
                """;
    }

    /** The mounts example with {@code partitioning_mode = "auto-lvm"}. */
    static String lvm() throws IOException {
        return mounts("example-http-server-lvm").replace("[customizations.services]",
                "[customizations]\npartitioning_mode = \"auto-lvm\"\n\n[customizations.services]");
    }

    /** The Debian release Kiln builds other than the host's. */
    static String otherRelease() {
        return Distros.names().stream().filter(d -> !d.equals(Distros.host())).findFirst().orElseThrow();
    }

    /** The example for that release ({@code distro = "debian-13"} on a Debian 12 host). */
    static String otherReleaseExample(String other) throws IOException {
        return example().replace("name = \"example-http-server\"", "name = \"example-http-server-" + other
                + "\"\ndistro = \"" + other + "\"");
    }

    static String example() throws IOException {
        try (var in = BootTest.class.getResourceAsStream("/blueprints/example-http-server.toml")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The example with /var and /home and {@code partitioning_mode = "auto-lvm"}, as partitioned-disk: under SeaBIOS
     * it boots from its /boot partition, the initramfs activates the volume group, and the unit prints the logical
     * volumes mounted where the blueprint said.
     */
    @Test
    @Order(2)
    void partitionedDiskOnLvmBootsUnderBios() throws Exception {
        if (!AHEAD.containsKey("example-http-server-lvm/partitioned-disk")) { // run alone
            assertThat(new TestServer(port, Path.of(ROOT, "state")).call("POST", "/api/v1/blueprints/new",
                    "text/x-toml", lvm()).statusCode()).isEqualTo(200);
        }
        Path disk = compose("example-http-server-lvm", "partitioned-disk", false);
        sshServerWithoutHostKeys(disk);
        // under SeaBIOS: the qcow2 above and the other release's below boot under OVMF, from the same kind of disk
        for (BootTester.Firmware fw : List.of(BootTester.Firmware.BIOS)) {
            Path work = Path.of(ROOT, "boot-" + fw).toAbsolutePath();
            BootTester.Result r = BootTester.boot(disk, OutputType.PARTITIONED_DISK, fw, true, Duration.ofMinutes(10),
                    work, work.resolve("serial.log"), new ToolRunner((level, line) -> { }));
            System.out.printf("BOOT partitioned-disk %s: %s after %.1f s: %s%n", fw, r.passed() ? "PASSED" : "FAILED",
                    r.seconds(), r.detail());
            assertThat(r.passed()).as(r.detail() + "\n" + tail(work.resolve("serial.log"))).isTrue();
            assertThat(Files.readString(work.resolve("serial.log"), StandardCharsets.ISO_8859_1)).as("findmnt in the guest")
                    .containsPattern("(?m)^/ ext4 root /dev/mapper/rootvg-rootlv")
                    .containsPattern("(?m)^/boot ext4 boot /dev/\\S+")
                    .containsPattern("(?m)^/var ext4 var /dev/mapper/rootvg-varlv")
                    .containsPattern("(?m)^/home ext4 home /dev/mapper/rootvg-homelv");
        }
    }

    /**
     * The example blueprint for the other Debian release Kiln builds ({@code distro = "debian-13"} on a Debian 12
     * host), as live-iso (the compose's boot test, UEFI): its packages from the host's mirror with that release's
     * suites, live-boot's initramfs of that release, the squashfs root; the guest says which release it is and
     * serves. (The host's release boots as qcow2 and partitioned-disk above; its live ISO is read by DiskTypesTest.)
     */
    @Test
    @Order(3)
    void theExampleForTheOtherDebianReleaseBootsAndServesHttpAsALiveIso() throws Exception {
        String other = otherRelease();
        if (!AHEAD.containsKey("example-http-server-" + other + "/live-iso")) { // run alone
            TestServer server = new TestServer(port, Path.of(ROOT, "state"));
            assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", otherReleaseExample(other))
                    .statusCode()).isEqualTo(200);
        }
        Path image = compose("example-http-server-" + other, "live-iso", true);
        String log = Files.readString(image.resolveSibling("logs/boot-test.log"), StandardCharsets.ISO_8859_1);
        String release = Distros.distro(other).orElseThrow().prettyName();
        assertThat(log).as("the guest says which release it is").contains(release);
    }

    /**
     * The set has openssh-server: configured, its configuration written, yet no host key in the image (its postinst
     * did not make them, and no placeholder of Kiln's is left), and the unit that makes them at first boot in place.
     */
    static void sshServerWithoutHostKeys(Path disk) throws Exception {
        JsonNode parts = DiskTypesTest.json("sfdisk", "--json", disk.toString()).path("partitiontable").path("partitions");
        assertThat(parts.get(3).path("type").asText()).as("an LVM layout").isEqualTo(DiskImage.LINUX_LVM);
        java.util.Map<String, Path> lvs = DiskTypesTest.logicalVolumes(disk, parts.get(3), java.util.Map.of());
        Path root = lvs.get("rootlv");
        try {
            assertThat(BuildTest.debugfs(root, "cat /etc/ssh/sshd_config")).contains("Include /etc/ssh/sshd_config.d");
            assertThat(BuildTest.debugfs(root, "ls /etc/ssh")).contains("moduli").doesNotContain("ssh_host_");
            assertThat(BuildTest.debugfs(root, "cat /etc/systemd/system/kiln-ssh-keygen.service"))
                    .contains("ssh-keygen -A");
            assertThat(BuildTest.debugfs(lvs.get("varlv"), "cat /lib/dpkg/status"))
                    .containsPattern("Package: openssh-server\n(.+\n)*?Status: install ok installed\n");
        } finally {
            for (Path lv : lvs.values()) {
                Files.deleteIfExists(lv);
            }
        }
    }

    private static String tail(Path p) throws IOException {
        String s = Files.exists(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "";
        return s.length() <= 3000 ? s : s.substring(s.length() - 3000);
    }
}
