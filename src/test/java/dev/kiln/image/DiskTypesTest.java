package dev.kiln.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import dev.kiln.testing.DebRepository;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import static dev.kiln.image.BuildTest.debugfs;
import static dev.kiln.image.BuildTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every disk type and the live ISO, built through the API from the host's Debian sources plus a local repository,
 * with the real kickstart templates (kernel, cloud-init, live-boot as each type lists them), and checked with
 * readers that are not ours: sfdisk, qemu-img, e2fsck, fsck.vfat, mtools, GNU tar, xorriso. Types sharing a package
 * set are built one after the other, so that the installed-tree cache serves the later ones.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + DiskTypesTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + DiskTypesTest.ROOT + "/apt", "kiln.compose.retries=1"})
class DiskTypesTest {

    static final String ROOT = "target/it/disk";
    static final DebRepository REPO;
    static final long MIB = 1024 * 1024;

    static {
        REPO = BuildTest.testRepository(ROOT);
    }

    @AfterAll
    static void stop() throws IOException {
        BuildTest.release(REPO, ROOT);
    }

    @LocalServerPort
    int port;
    TestServer server;

    @BeforeEach
    void blueprint() {
        server = new TestServer(port, Path.of(ROOT, "state"));
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", BuildTest.BLUEPRINT).statusCode())
                .isEqualTo(200);
    }

    /** The compose whose image the test is checking; deleted when the next build starts and after each test. */
    String last;

    @AfterEach
    void discard() {
        if (last != null) {
            server.delete(last);
            last = null;
        }
    }

    /** Builds one image, deleting the one checked before it: a run holds one image (and its extracted parts). */
    Path build(String type, long size) throws Exception {
        discard();
        String uuid = server.start("custom", type, 0, size > 0 ? ", \"size\": " + size : "");
        last = uuid;
        String end = server.await(uuid, 900_000, "FINISHED", "FAILED");
        Path dir = Path.of(ROOT, "state/results", uuid).toAbsolutePath();
        assertThat(end).as(Files.exists(dir.resolve("logs/combined.log"))
                ? Files.readString(dir.resolve("logs/combined.log")) : "no log").isEqualTo("FINISHED");
        OutputType t = OutputType.byId(type).orElseThrow();
        // compose image serves the file under the spec's name
        HttpResponse<String> head = server.call("HEAD", "/api/v1/compose/image/" + uuid, null, null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Content-Disposition").orElse(""))
                .contains("filename=" + uuid + "-" + t.imageName());
        return dir.resolve(t.imageName());
    }

    /**
     * A second compose of the same blueprint as the same type (its tree from the cache this time) gives the very
     * same bytes: file-system UUIDs, FAT serial and times, VMDK CID, VHD footer, tar and gzip headers all come from
     * the frozen content, never from the clock or chance.
     */
    void sameBytesAgain(Path first, String type, long size) throws Exception {
        String sha = DebRepository.sha256(first);
        Path second = build(type, size);
        assertThat(DebRepository.sha256(second)).as(type + " built twice").isEqualTo(sha);
    }

    static JsonNode json(String... command) throws Exception {
        return TestServer.JSON.readTree(run(command));
    }

    /** The partition table, read by sfdisk: BIOS boot, ESP, root, then the other mount points'; answers them. */
    static JsonNode checkTable(Path disk, String... mounts) throws Exception {
        JsonNode table = json("sfdisk", "--json", disk.toString()).path("partitiontable");
        assertThat(table.path("label").asText()).isEqualTo("gpt");
        JsonNode parts = table.path("partitions");
        assertThat(parts).hasSize(3 + mounts.length);
        assertThat(parts.get(0).path("type").asText()).isEqualTo(DiskImage.BIOS_BOOT);
        assertThat(parts.get(1).path("type").asText()).isEqualTo(DiskImage.ESP);
        assertThat(parts.get(2).path("type").asText()).isEqualTo(DiskImage.ROOT_X86_64);
        assertThat(parts.get(2).path("name").asText()).isEqualTo("root");
        for (int i = 0; i < mounts.length; i++) {
            assertThat(parts.get(3 + i).path("type").asText()).isEqualTo(DiskImage.LINUX_DATA);
            assertThat(parts.get(3 + i).path("name").asText()).isEqualTo(mounts[i].substring(1));
        }
        return parts;
    }

    static Path extract(Path disk, JsonNode part, String name) throws Exception {
        Path out = disk.resolveSibling(name);
        run("dd", "if=" + disk, "of=" + out, "bs=512", "skip=" + part.path("start").asLong(),
                "count=" + part.path("size").asLong(), "conv=sparse", "status=none");
        return out;
    }

    /**
     * The ESP passes fsck.vfat and holds GRUB's EFI image; the root, /home and /var (the blueprint's mount points,
     * /var of the size it asks) pass e2fsck, each holds its part of the tree, and the root's fstab mounts them by
     * UUID; the root boots this kernel.
     */
    static void checkDisk(Path disk, boolean cloudInit) throws Exception {
        JsonNode parts = checkTable(disk, "/home", "/var");
        assertThat(parts.get(4).path("size").asLong() * 512).as("/var's minsize").isEqualTo(600 * MIB);
        assertThat(parts.get(3).path("size").asLong() * 512).as("/home: what it needs, at least").isGreaterThanOrEqualTo(256 * MIB);
        Path esp = extract(disk, parts.get(1), "esp.img");
        Path root = extract(disk, parts.get(2), "root.img");
        Path home = extract(disk, parts.get(3), "home.img");
        Path var = extract(disk, parts.get(4), "var.img");
        try {
            run("fsck.vfat", "-n", esp.toString());
            assertThat(run("env", "MTOOLS_SKIP_CHECK=1", "mdir", "-i", esp.toString(), "::/EFI/BOOT")).contains("BOOTX64");
            for (Path fs : List.of(root, home, var)) {
                run("e2fsck", "-fn", fs.toString());
            }
            assertThat(debugfs(root, "cat /etc/hostname")).isEqualTo("kiln-test-host\n");
            assertThat(debugfs(home, "cat /alice/.ssh/authorized_keys")).isEqualTo(BuildTest.KEY + "\n");
            assertThat(debugfs(var, "cat /lib/kiln-test/postinst-ran")).isEqualTo("configured configure\n");
            // ls -p: /INODE/MODE/UID/GID/NAME/SIZE/
            assertThat(debugfs(root, "ls -p /var").strip().lines().map(l -> l.split("/")[5]).toList())
                    .as("the mount point is empty").containsExactlyInAnyOrder(".", "..");
            String fstab = debugfs(root, "cat /etc/fstab");
            String uuid = run("blkid", "-o", "value", "-s", "UUID", root.toString()).strip();
            assertThat(fstab).contains("UUID=" + uuid + " / ext4");
            for (String m : List.of("home", "var")) {
                Path fs = m.equals("home") ? home : var;
                assertThat(run("blkid", "-o", "value", "-s", "LABEL", fs.toString()).strip()).isEqualTo(m);
                assertThat(fstab).contains("UUID=" + run("blkid", "-o", "value", "-s", "UUID", fs.toString()).strip()
                        + " /" + m + " ext4 defaults 0 2\n");
            }
            String grub = debugfs(root, "cat /boot/grub/grub.cfg");
            assertThat(grub).contains("root=UUID=" + uuid).containsPattern("linux /boot/vmlinuz-\\S+-amd64 ");
            assertThat(debugfs(root, "ls /boot")).contains("initrd.img-");
            assertThat(debugfs(root, "cat /etc/systemd/network/80-kiln-dhcp.network")).contains("DHCP=yes");
            if (cloudInit) {
                assertThat(debugfs(root, "ls /usr/bin")).contains("cloud-init");
            } else {
                assertThat(debugfs(root, "ls /usr/bin")).contains("bash").doesNotContain("cloud-init");
            }
            assertThat(debugfs(root, "stat /etc/machine-id")).contains("Size: 0");
            // the tree is merged-/usr from the start: usr-is-merged says so, and the conversion tool is not there
            assertThat(debugfs(var, "cat /lib/dpkg/status")).contains("Package: usr-is-merged\n")
                    .doesNotContain("Package: usrmerge\n");
            BuildTest.treeDataApplied(request -> {
                try {
                    return debugfs(root, request);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        } finally {
            for (Path p : List.of(esp, root, home, var)) {
                Files.deleteIfExists(p);
            }
        }
        byte[] mbr = new byte[512];
        try (InputStream in = Files.newInputStream(disk)) {
            assertThat(in.readNBytes(mbr, 0, 512)).isEqualTo(512);
        }
        assertThat(new String(mbr, StandardCharsets.ISO_8859_1)).as("GRUB's boot code").contains("GRUB ");
        assertThat(mbr[510] & 0xff).isEqualTo(0x55);
        assertThat(mbr[511] & 0xff).isEqualTo(0xaa);
    }

    /**
     * The logical volumes of an LVM partition, read by lvm2 itself over a read-only loop device (no device-mapper,
     * nothing activated): {@code pvck} passes, {@code vgcfgbackup} writes the volume group's metadata, and each
     * volume (one segment) is extracted by the place {@code pvs}/{@code lvs} give it. Answers name → file.
     */
    static Map<String, Path> logicalVolumes(Path disk, JsonNode part, Map<String, Long> sizes) throws Exception {
        long start = part.path("start").asLong() * 512;
        String loop = run("losetup", "--find", "--show", "--read-only", "--offset=" + start,
                "--sizelimit=" + part.path("size").asLong() * 512, disk.toString()).strip();
        Map<String, Path> out = new java.util.TreeMap<>();
        try {
            String config = "devices { filter=[\"a|^" + loop + "$|\",\"r|.*|\"] use_devicesfile=0 "
                    + "obtain_device_list_from_udev=0 } backup { backup=0 archive=0 }";
            List<String> common = List.of("--driverloaded", "n", "--nolocking", "--config", config);
            java.util.function.Function<List<String>, String> lvm = args -> {
                List<String> cmd = new ArrayList<>(List.of("env", "LVM_SUPPRESS_FD_WARNINGS=1", "lvm", args.get(0)));
                cmd.addAll(common);
                cmd.addAll(args.subList(1, args.size()));
                try {
                    return run(cmd.toArray(String[]::new));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            lvm.apply(List.of("pvck", loop));
            Path backup = disk.resolveSibling("rootvg.vgcfg");
            lvm.apply(List.of("vgcfgbackup", "-f", backup.toString(), "rootvg"));
            assertThat(Files.readString(backup)).contains("rootvg {", "extent_size = 8192", "rootlv {");
            Files.delete(backup);
            // lvm2's warnings (activation disabled) come with the output: only lines of the asked form count
            long peStart = Long.parseLong(lvm.apply(List.of("pvs", "--noheadings", "--nosuffix", "--units", "b",
                    "-o", "pe_start", loop)).lines().map(String::strip).filter(l -> l.matches("[0-9]+")).findFirst()
                    .orElseThrow());
            for (String line : lvm.apply(List.of("lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator",
                    "|", "-o", "lv_name,lv_size,seg_pe_ranges", "rootvg")).lines().map(String::strip)
                    .filter(l -> l.matches("\\S+\\|[0-9]+\\|\\S+:[0-9]+-[0-9]+")).toList()) {
                String[] f = line.split("\\|");
                String name = f[0];
                long size = Long.parseLong(f[1]);
                if (sizes.containsKey(name)) {
                    assertThat(size).as(name + "'s size").isEqualTo(sizes.get(name));
                }
                long first = Long.parseLong(f[2].substring(f[2].lastIndexOf(':') + 1, f[2].lastIndexOf('-')));
                Path lv = disk.resolveSibling(name + ".img");
                run("dd", "if=" + disk, "of=" + lv, "bs=1M", "skip=" + (start + peStart + first * 4 * MIB) / MIB,
                        "count=" + size / MIB, "conv=sparse", "status=none");
                out.put(name, lv);
            }
        } finally {
            run("losetup", "-d", loop);
        }
        return out;
    }

    static JsonNode info(Path image, String format) throws Exception {
        JsonNode info = json("qemu-img", "info", "-f", format, "--output=json", image.toString());
        assertThat(info.path("format").asText()).isEqualTo(format);
        return info;
    }

    /** qcow2 compat 1.1, clean by qemu-img check, and the disk inside it checks as a partitioned disk does. */
    static void checkQcow2(Path image, boolean cloudInit) throws Exception {
        JsonNode info = info(image, "qcow2");
        assertThat(info.at("/format-specific/data/compat").asText()).isEqualTo("1.1");
        assertThat(info.path("virtual-size").asLong() % MIB).isZero();
        run("qemu-img", "check", "-f", "qcow2", image.toString());
        Path raw = image.resolveSibling("inside.raw");
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
        try {
            checkDisk(raw, cloudInit);
        } finally {
            Files.deleteIfExists(raw);
        }
    }

    @Test
    @Order(1)
    void partitionedDiskQcow2AndVmdk() throws Exception {
        long size = 3L * 1024 * MIB;
        Path disk = build("partitioned-disk", size);
        assertThat(Files.size(disk)).as("--size is the disk's size").isEqualTo(size);
        checkDisk(disk, false);
        sameBytesAgain(disk, "partitioned-disk", size);

        Path qcow2 = build("qcow2", 0);
        checkQcow2(qcow2, false);
        sameBytesAgain(qcow2, "qcow2", 0);

        Path vmdk = build("vmdk", 0);
        JsonNode info = info(vmdk, "vmdk");
        assertThat(info.at("/format-specific/data/create-type").asText()).isEqualTo("streamOptimized");
        assertThat(info.path("virtual-size").asLong() % MIB).isZero();
        run("qemu-img", "check", "-f", "vmdk", vmdk.toString());
        sameBytesAgain(vmdk, "vmdk", 0);
    }

    @Test
    @Order(2)
    void cloudTypes() throws Exception {
        Path ami = build("ami", 0);
        checkDisk(ami, true); // the raw disk of partitioned-disk's builder, built twice above

        Path vhd = build("vhd", 0);
        JsonNode info = info(vhd, "vpc");
        long virtual = info.path("virtual-size").asLong();
        assertThat(virtual % MIB).as("Azure wants whole MiB").isZero();
        assertThat(Files.size(vhd)).as("fixed VHD: the data and a 512-byte footer").isEqualTo(virtual + 512);
        assertThat(info.at("/format-specific/data/subformat").asText("fixed")).isEqualTo("fixed");
        sameBytesAgain(vhd, "vhd", 0);

        Path google = build("google", 0);
        String listing = run("tar", "-tvzf", google.toString());
        assertThat(listing.strip().lines().toList()).hasSize(1);
        assertThat(listing).contains(" disk.raw");
        byte[] header = new byte[512];
        try (InputStream in = new GzipCompressorInputStream(Files.newInputStream(google), true)) {
            assertThat(in.readNBytes(header, 0, 512)).isEqualTo(512);
        }
        assertThat(new String(header, 257, 8, StandardCharsets.US_ASCII)).as("GNU tar magic")
                .isEqualTo("ustar  \0");
        Path raw = google.resolveSibling("disk.raw");
        run("tar", "-xzf", google.toString(), "-C", google.getParent().toString());
        try {
            checkDisk(raw, true);
        } finally {
            Files.deleteIfExists(raw);
        }
        sameBytesAgain(google, "google", 0);

        // openstack and alibaba are qcow2's builder with cloud-init (qcow2 is built twice above)
        checkQcow2(build("openstack", 0), true);
        checkQcow2(build("alibaba", 0), true);
    }

    @Test
    @Order(3)
    void liveIso() throws Exception {
        Path iso = build("live-iso", 0);
        String report = run("xorriso", "-indev", iso.toString(), "-report_el_torito", "plain");
        assertThat(report).containsPattern("El Torito boot img : +1 +BIOS")
                .containsPattern("El Torito boot img : +2 +UEFI");
        assertThat(report).containsPattern("Volume id +: '[^']*live[^']*'");
        List<String> files = new ArrayList<>(run("xorriso", "-indev", iso.toString(), "-find", "/live", "-type", "f")
                .lines().filter(l -> l.startsWith("'")).toList());
        assertThat(files).contains("'/live/vmlinuz'", "'/live/initrd.img'", "'/live/filesystem.squashfs'");
        Path squash = iso.resolveSibling("filesystem.squashfs");
        run("xorriso", "-osirrox", "on", "-indev", iso.toString(), "-extract", "/live/filesystem.squashfs", squash.toString());
        try {
            String listing = run("unsquashfs", "-l", squash.toString());
            assertThat(listing).contains("squashfs-root/etc/hostname", "squashfs-root/usr/lib/live/boot");
            assertThat(run("unsquashfs", "-cat", squash.toString(), "etc/hostname")).isEqualTo("kiln-test-host\n");
        } finally {
            Files.deleteIfExists(squash);
        }
        assertThat(run("fdisk", "-l", iso.toString())).as("hybrid: a USB stick boots it too").contains(iso + "1");
        sameBytesAgain(iso, "live-iso", 0);
    }

    /**
     * The same blueprint with {@code partitioning_mode = "auto-lvm"} (it has /var and /home): a plain /boot, one
     * physical volume, the volume group rootvg with rootlv, homelv and varlv (of the size the blueprint asks), each
     * file system clean and holding its part of the tree, fstab by UUID, GRUB reading the kernel from /boot; lvm2
     * is in the image (its initramfs hook activates the group). Built twice: the file systems are the same bytes.
     */
    @Test
    @Order(4)
    void autoLvmPutsTheMountPointsOnLogicalVolumes() throws Exception {
        String toml = BuildTest.BLUEPRINT.replace("name = \"custom\"", "name = \"custom-lvm\"")
                .replace("hostname = \"kiln-test-host\"", "hostname = \"kiln-test-host\"\npartitioning_mode = \"auto-lvm\"");
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", toml).statusCode()).isEqualTo(200);
        discard();
        String uuid = server.start("custom-lvm", "partitioned-disk", 0, "");
        last = uuid;
        Path dir = Path.of(ROOT, "state/results", uuid).toAbsolutePath();
        assertThat(server.await(uuid, 900_000, "FINISHED", "FAILED")).as(Files.exists(dir.resolve("logs/combined.log"))
                ? Files.readString(dir.resolve("logs/combined.log")) : "no log").isEqualTo("FINISHED");
        assertThat(Files.readString(dir.resolve(ResultsDir.FINAL_KICKSTART))).contains("part /boot --fstype=ext4 --size=512\n",
                "volgroup rootvg pv.01\n", "logvol /var --vgname=rootvg --name=varlv --fstype=ext4 --size=600\n");
        Path disk = dir.resolve("disk.img");
        JsonNode parts = json("sfdisk", "--json", disk.toString()).path("partitiontable").path("partitions");
        assertThat(parts).hasSize(4);
        assertThat(parts.get(2).path("name").asText()).isEqualTo("boot");
        assertThat(parts.get(2).path("type").asText()).isEqualTo(DiskImage.LINUX_DATA);
        assertThat(parts.get(3).path("name").asText()).isEqualTo("lvm");
        assertThat(parts.get(3).path("type").asText()).isEqualTo(DiskImage.LINUX_LVM);
        Path boot = extract(disk, parts.get(2), "boot.img");
        Map<String, Path> lvs = logicalVolumes(disk, parts.get(3), Map.of("varlv", 600 * MIB));
        try {
            assertThat(lvs).containsOnlyKeys("homelv", "rootlv", "varlv");
            run("e2fsck", "-fn", boot.toString());
            lvs.values().forEach(lv -> {
                try {
                    run("e2fsck", "-fn", lv.toString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Path root = lvs.get("rootlv");
            assertThat(debugfs(root, "cat /etc/hostname")).isEqualTo("kiln-test-host\n");
            assertThat(debugfs(lvs.get("homelv"), "cat /alice/.ssh/authorized_keys")).isEqualTo(BuildTest.KEY + "\n");
            assertThat(debugfs(lvs.get("varlv"), "cat /lib/kiln-test/postinst-ran")).isEqualTo("configured configure\n");
            assertThat(debugfs(lvs.get("varlv"), "cat /lib/dpkg/status")).contains("Package: lvm2\n");
            assertThat(debugfs(boot, "ls /")).contains("vmlinuz-", "initrd.img-", "grub");
            assertThat(debugfs(boot, "cat /grub/grub.cfg")).containsPattern("linux /vmlinuz-\\S+-amd64 root=UUID=");
            String fstab = debugfs(root, "cat /etc/fstab");
            for (Map.Entry<String, Path> fs : Map.of("/", root, "/boot", boot, "/home", lvs.get("homelv"),
                    "/var", lvs.get("varlv")).entrySet()) {
                assertThat(fstab).contains("UUID=" + run("blkid", "-o", "value", "-s", "UUID", fs.getValue().toString())
                        .strip() + " " + fs.getKey() + " ext4");
            }
            assertThat(Files.readString(dir.resolve("logs/combined.log"))).contains("volume group rootvg on a");
            // a second compose: the same file systems (lvm2 stamps its metadata with the time and host it ran on)
            Map<String, String> sums = new java.util.TreeMap<>();
            for (Map.Entry<String, Path> lv : lvs.entrySet()) {
                sums.put(lv.getKey(), DebRepository.sha256(lv.getValue()));
            }
            sums.put("boot", DebRepository.sha256(boot));
            deleteAll(lvs.values(), boot);
            String again = server.start("custom-lvm", "partitioned-disk", 0, "");
            discard();
            last = again;
            assertThat(server.await(again, 900_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
            Path disk2 = Path.of(ROOT, "state/results", again, "disk.img").toAbsolutePath();
            JsonNode parts2 = json("sfdisk", "--json", disk2.toString()).path("partitiontable").path("partitions");
            boot = extract(disk2, parts2.get(2), "boot.img");
            lvs = logicalVolumes(disk2, parts2.get(3), Map.of());
            Map<String, String> sums2 = new java.util.TreeMap<>();
            for (Map.Entry<String, Path> lv : lvs.entrySet()) {
                sums2.put(lv.getKey(), DebRepository.sha256(lv.getValue()));
            }
            sums2.put("boot", DebRepository.sha256(boot));
            assertThat(sums2).isEqualTo(sums);
        } finally {
            deleteAll(lvs.values(), boot);
        }
    }

    static void deleteAll(java.util.Collection<Path> files, Path more) throws IOException {
        for (Path p : files) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(more);
    }

    @Test
    @Order(5)
    void everyTypeIsEnabled() {
        JsonNode types = server.get("/api/v1/compose/types").path("types");
        assertThat(types).hasSize(OutputType.values().length);
        types.forEach(t -> assertThat(t.path("enabled").asBoolean()).as(t.toString()).isTrue());
    }
}
