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
 * set are built one after the other, so that the installed-tree cache serves the later ones; two build at once,
 * each test naming the compose to start when its image is ready ({@code next}), so that a set installs while another
 * image is read and no set is installed twice at once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + DiskTypesTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.sources.apt-dir=" + DiskTypesTest.ROOT + "/apt", "kiln.compose.retries=1",
        // the five package sets of the disk types stay cached: the LVM and disk layouts reuse the first
        "kiln.cache.trees=5",
        // two composes at once: the next image builds while one is checked and its twin built (see #build)
        "kiln.compose.build-concurrency=2"})
class DiskTypesTest {

    static final String ROOT = "target/it/disk";
    static final DebRepository REPO;
    static final long MIB = 1024 * 1024;

    /** The blueprint of {@link #autoLvmPutsTheMountPointsOnLogicalVolumes}. */
    static final String LVM = BuildTest.BLUEPRINT.replace("name = \"custom\"", "name = \"custom-lvm\"")
            .replace("hostname = \"kiln-test-host\"", "hostname = \"kiln-test-host\"\npartitioning_mode = \"auto-lvm\"");

    /** The test blueprint without its mount points. */
    static final String PLAIN = BuildTest.BLUEPRINT.replaceAll("(?s)\\[\\[customizations\\.filesystem]]\n[^\\[]*", "");
    /** The blueprint of {@link #aDiskCustomizationIsLaidOutAsWritten}. */
    static final String DISK = PLAIN.replace("name = \"custom\"", "name = \"custom-disk\"") + """

            [customizations.disk]
            minsize = "4 GiB"

            [[customizations.disk.partitions]]
            mountpoint = "/data"
            fs_type = "xfs"
            label = "data"
            minsize = "400 MiB"

            [[customizations.disk.partitions]]
            fs_type = "swap"
            minsize = "64 MiB"

            [[customizations.disk.partitions]]
            mountpoint = "/tmp"
            minsize = "64 MiB"

            [[customizations.disk.partitions]]
            type = "lvm"
            name = "mainvg"

            [[customizations.disk.partitions.logical_volumes]]
            name = "root"
            mountpoint = "/"
            label = "system"

            [[customizations.disk.partitions.logical_volumes]]
            mountpoint = "/home"

            [[customizations.disk.partitions.logical_volumes]]
            mountpoint = "/srv/web"
            fs_type = "vfat"
            label = "WEB"
            minsize = "100 MiB"
            """;

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
        for (String toml : List.of(BuildTest.BLUEPRINT, LVM, DISK)) {
            assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", toml).statusCode()).as(toml)
                    .isEqualTo(200);
        }
    }

    /** Composes started ahead of the test that reads them, by blueprint, type and size ({@link #ahead}). */
    static final Map<String, String> AHEAD = new java.util.concurrent.ConcurrentHashMap<>();

    /** Starts a compose now, for a later {@link #build} of the same blueprint, type and size to read. */
    void ahead(String blueprint, String type, long size) {
        AHEAD.computeIfAbsent(blueprint + " " + type + " " + size,
                k -> server.start(blueprint, type, 0, size > 0 ? ", \"size\": " + size : ""));
    }

    /** The compose whose image the test is checking; deleted when the next build starts and after each test. */
    String last;

    @AfterEach
    void discard() throws InterruptedException {
        if (last != null) {
            server.delete(last);
            last = null;
        }
        if (twin != null) { // a test that failed before comparing: the twin goes too
            server.await(twin, 900_000, "FINISHED", "FAILED");
            server.delete(twin);
            twin = null;
        }
    }

    /** The second compose of the image being checked ({@link #sameBytesAgain}), building while the first is read. */
    String twin;

    /**
     * Builds one image, deleting the one checked before it: a run holds one image (and its extracted parts), its
     * twin, started as soon as the first is done, for {@link #sameBytesAgain}, and the next image to check, whose
     * compose ({@code next}: blueprint and type, of size 0) starts then too, unless it was started {@link #ahead}.
     */
    Path build(String type, long size, String... next) throws Exception {
        return build("custom", type, size, () -> twin = server.start("custom", type, 0,
                size > 0 ? ", \"size\": " + size : ""), next);
    }

    /**
     * As {@link #build(String, long, String...)}, without a twin: another blueprint, or a type whose builder another
     * type has built twice.
     */
    Path build(String blueprint, String type, long size, String... next) throws Exception {
        return build(blueprint, type, size, () -> { }, next);
    }

    private Path build(String blueprint, String type, long size, Runnable whenDone, String... next) throws Exception {
        discard();
        String uuid = AHEAD.remove(blueprint + " " + type + " " + size);
        if (uuid == null) {
            uuid = server.start(blueprint, type, 0, size > 0 ? ", \"size\": " + size : "");
        }
        last = uuid;
        String end = server.await(uuid, 900_000, "FINISHED", "FAILED");
        whenDone.run();
        if (next.length > 0) {
            ahead(next[0], next[1], 0);
        }
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
        String uuid = twin;
        twin = null;
        try {
            Path dir = Path.of(ROOT, "state/results", uuid).toAbsolutePath();
            assertThat(server.await(uuid, 900_000, "FINISHED", "FAILED")).as(type + " again").isEqualTo("FINISHED");
            Path second = dir.resolve(OutputType.byId(type).orElseThrow().imageName());
            assertThat(DebRepository.sha256(second)).as(type + " built twice").isEqualTo(sha);
            assertThat(Files.readString(dir.resolve("logs/combined.log"))).as("the second's initramfs: the first's")
                    .containsPattern("initramfs for \\S+ \\((\\d+ modules|MODULES=most)\\) taken from the cache");
        } finally {
            server.delete(uuid);
        }
    }

    /**
     * The kernel's module index was made while dpkg configured the other packages, the kernel's postinst took it
     * (the compose's log says both), and it is what the tree's own depmod makes of the modules: run again (the
     * tree's kmod, on a copy of the cached tree's modules with the index left out), every index file is the same.
     */
    static void moduleIndexIsDepmods(Path log) throws Exception {
        assertThat(Files.readString(log)).containsPattern("module index of \\S+ made while dpkg configured the other "
                + "packages, in \\d+ ms").containsPattern("the postinst of \\S+ took the module index made ahead");
        Path state = Path.of(ROOT, "state").toAbsolutePath();
        Path shelf = dev.kiln.image.tree.TreePlaces.tmpfsDir(state, "trees").resolve(dev.kiln.source.Distros.host());
        if (!Files.isDirectory(shelf)) {
            shelf = state.resolve("cache/trees").resolve(dev.kiln.source.Distros.host());
        }
        int checked = 0;
        // on the trees' own file system (hard links)
        Path copy = shelf.getParent().resolveSibling(shelf.getParent().getFileName() + "-depmod-again");
        try (var entries = Files.list(shelf)) {
            for (Path tree : entries.map(e -> e.resolve("tree")).filter(Files::isDirectory).toList()) {
                try (var kernels = Files.list(tree.resolve("usr/lib/modules"))) {
                    for (Path modules : kernels.filter(m -> Files.isRegularFile(m.resolve("modules.order"))).toList()) {
                        dev.kiln.store.FileTrees.delete(copy);
                        Path again = copy.resolve("lib/modules").resolve(modules.getFileName());
                        Files.createDirectories(again.getParent());
                        run("cp", "-al", modules.toString(), again.toString());
                        List<String> index = new ArrayList<>();
                        try (var files = Files.list(modules)) {
                            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("modules.")).toList()) {
                                String name = f.getFileName().toString();
                                Files.delete(again.resolve(name)); // a link to the cached tree's: never written through
                                if (!List.of("modules.order", "modules.builtin", "modules.builtin.modinfo")
                                        .contains(name)) { // what the package ships: the rest is depmod's
                                    index.add(name);
                                } else {
                                    Files.copy(f, again.resolve(name));
                                }
                            }
                        }
                        assertThat(index).contains("modules.dep", "modules.dep.bin", "modules.alias", "modules.symbols");
                        Path depmod = copy.resolve("depmod"); // kmod answers to the name it is called by
                        Files.createSymbolicLink(depmod, tree.resolve("usr/bin/kmod"));
                        run(depmod.toString(), "-b", copy.toString(), modules.getFileName().toString());
                        for (String name : index) {
                            assertThat(again.resolve(name)).as(name + " as depmod makes it").hasSameBinaryContentAs(
                                    modules.resolve(name));
                        }
                        checked++;
                    }
                } catch (java.nio.file.NoSuchFileException none) {
                    // a tree without kernels
                }
            }
        } finally {
            dev.kiln.store.FileTrees.delete(copy);
        }
        assertThat(checked).as("kernels checked in the cached trees").isPositive();
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
            // the initramfs holds the type's modules only (MODULES=list), as the image's initramfs-tools is told
            assertThat(debugfs(root, "cat /etc/initramfs-tools/conf.d/kiln-modules.conf")).contains("MODULES=list\n");
            assertThat(debugfs(root, "cat /etc/initramfs-tools/modules")).contains("\nsd_mod\next4\ncrc32c_generic\n");
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
        return logicalVolumes(disk, part, "rootvg", sizes);
    }

    static Map<String, Path> logicalVolumes(Path disk, JsonNode part, String vg, Map<String, Long> sizes)
            throws Exception {
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
            lvm.apply(List.of("vgcfgbackup", "-f", backup.toString(), vg));
            assertThat(Files.readString(backup)).contains(vg + " {", "extent_size = 8192");
            Files.delete(backup);
            // lvm2's warnings (activation disabled) come with the output: only lines of the asked form count
            long peStart = Long.parseLong(lvm.apply(List.of("pvs", "--noheadings", "--nosuffix", "--units", "b",
                    "-o", "pe_start", loop)).lines().map(String::strip).filter(l -> l.matches("[0-9]+")).findFirst()
                    .orElseThrow());
            for (String line : lvm.apply(List.of("lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator",
                    "|", "-o", "lv_name,lv_size,seg_pe_ranges", vg)).lines().map(String::strip)
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
        checkQcow2(image, cloudInit, true);
    }

    /** As above; {@code inside} false checks the container only (a type whose builder and set are checked elsewhere). */
    static void checkQcow2(Path image, boolean cloudInit, boolean inside) throws Exception {
        JsonNode info = info(image, "qcow2");
        assertThat(info.at("/format-specific/data/compat").asText()).isEqualTo("1.1");
        assertThat(info.path("virtual-size").asLong() % MIB).isZero();
        run("qemu-img", "check", "-f", "qcow2", image.toString());
        if (!inside) {
            return;
        }
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
        ahead("custom", "vmdk", 0); // a set of its own, installed while partitioned-disk's is
        Path disk = build("partitioned-disk", size, "custom", "qcow2");
        assertThat(Files.size(disk)).as("--size is the disk's size").isEqualTo(size);
        moduleIndexIsDepmods(disk.resolveSibling("logs/combined.log"));
        checkDisk(disk, false);
        sameBytesAgain(disk, "partitioned-disk", size);

        // the raw disk inside is partitioned-disk's, read above; no twin: qcow2's builder is built twice as openstack
        Path qcow2 = build("custom", "qcow2", 0, "custom", "ami");
        checkQcow2(qcow2, false, false);

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
        // the raw disk of partitioned-disk's builder (built twice above), with cloud-init (built twice as openstack)
        Path ami = build("custom", "ami", 0, "custom", "vhd");
        checkDisk(ami, true);

        Path vhd = build("vhd", 0, "custom", "google");
        JsonNode info = info(vhd, "vpc");
        long virtual = info.path("virtual-size").asLong();
        assertThat(virtual % MIB).as("Azure wants whole MiB").isZero();
        assertThat(Files.size(vhd)).as("fixed VHD: the data and a 512-byte footer").isEqualTo(virtual + 512);
        assertThat(info.at("/format-specific/data/subformat").asText("fixed")).isEqualTo("fixed");
        sameBytesAgain(vhd, "vhd", 0);

        Path google = build("google", 0, "custom", "openstack");
        String listing = run("tar", "-tvzf", google.toString());
        assertThat(listing.strip().lines().toList()).hasSize(1);
        assertThat(listing).contains(" disk.raw");
        byte[] header = new byte[512];
        try (InputStream in = new GzipCompressorInputStream(Files.newInputStream(google), true)) {
            assertThat(in.readNBytes(header, 0, 512)).isEqualTo(512);
        }
        assertThat(new String(header, 257, 8, StandardCharsets.US_ASCII)).as("GNU tar magic")
                .isEqualTo("ustar  \0");
        // the raw disk inside is the builder's checked above (partitioned-disk, ami); the same bytes twice
        sameBytesAgain(google, "google", 0);

        // openstack and alibaba are qcow2's builder with cloud-init: the disk inside openstack's is read through,
        // alibaba's container checked; openstack the same bytes twice (alibaba is the same builder again)
        Path openstack = build("openstack", 0, "custom", "alibaba");
        assertThat(Files.readString(openstack.resolveSibling("logs/combined.log"))).as("qcow2's initramfs, made for "
                + "another package set with the same modules, kernel and hooks").containsPattern(
                "initramfs for \\S+ \\(10 modules\\) taken from the cache");
        checkQcow2(openstack, true);
        sameBytesAgain(openstack, "openstack", 0);
        Path alibaba = build("custom", "alibaba", 0, "custom", "live-iso");
        checkQcow2(alibaba, true, false);
    }

    @Test
    @Order(3)
    void liveIso() throws Exception {
        Path iso = build("live-iso", 0, "custom-lvm", "partitioned-disk");
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
     * is in the image (its initramfs hook activates the group).
     */
    @Test
    @Order(4)
    void autoLvmPutsTheMountPointsOnLogicalVolumes() throws Exception {
        Path dir = build("custom-lvm", "partitioned-disk", 0, "custom-disk", "partitioned-disk").getParent();
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
        } finally {
            deleteAll(lvs.values(), boot);
        }
    }

    /**
     * A {@code [customizations.disk]} of every kind Kiln makes, in its order: an xfs /data with its label, a swap
     * partition, and a volume group mainvg holding the root (labelled "system"), /home and a vfat /srv/web; a /boot
     * partition comes first (the root is on LVM) and the disk has the least size asked. Each is read by its own
     * tool: xfs_repair, mkswap's blkid signature, e2fsck, fsck.vfat, lvm2.
     */
    @Test
    @Order(5)
    void aDiskCustomizationIsLaidOutAsWritten() throws Exception {
        assertThat(PLAIN).doesNotContain("customizations.filesystem");
        Path dir = build("custom-disk", "partitioned-disk", 0).getParent();
        Path disk = dir.resolve("disk.img");
        assertThat(Files.size(disk)).isGreaterThanOrEqualTo(4L << 30);
        JsonNode parts = json("sfdisk", "--json", disk.toString()).path("partitiontable").path("partitions");
        assertThat(parts).hasSize(7);
        List<String> names = new ArrayList<>();
        parts.forEach(p -> names.add(p.path("name").asText()));
        assertThat(names).containsExactly("BIOS boot", "EFI System", "boot", "data", "swap", "tmp", "lvm");
        assertThat(parts.get(4).path("type").asText()).isEqualTo(DiskImage.LINUX_SWAP);
        assertThat(parts.get(6).path("type").asText()).isEqualTo(DiskImage.LINUX_LVM);
        Path tmp = extract(disk, parts.get(5), "tmp.img");
        try {
            run("e2fsck", "-fn", tmp.toString());
            assertThat(debugfs(tmp, "stat /")).as("a /tmp of its own is the tree's /tmp: 1777")
                    .containsPattern("Mode: +01777").contains("User:     0");
        } finally {
            Files.deleteIfExists(tmp);
        }
        assertThat(parts.get(3).path("size").asLong() * 512).isEqualTo(400 * MIB);
        Path boot = extract(disk, parts.get(2), "boot.img");
        Path data = extract(disk, parts.get(3), "data.img");
        Path swap = extract(disk, parts.get(4), "swap.img");
        Map<String, Path> lvs = logicalVolumes(disk, parts.get(6), "mainvg", Map.of("srv_weblv", 100 * MIB));
        try {
            assertThat(lvs).containsOnlyKeys("root", "homelv", "srv_weblv");
            run("xfs_repair", "-n", "-f", data.toString());
            run("e2fsck", "-fn", boot.toString());
            run("e2fsck", "-fn", lvs.get("root").toString());
            run("e2fsck", "-fn", lvs.get("homelv").toString());
            run("fsck.vfat", "-n", lvs.get("srv_weblv").toString());
            Map<String, String> types = new java.util.LinkedHashMap<>();
            for (Map.Entry<String, Path> fs : Map.of("data", data, "swap", swap, "root", lvs.get("root"),
                    "web", lvs.get("srv_weblv")).entrySet()) {
                types.put(fs.getKey(), run("blkid", "-o", "value", "-s", "TYPE", fs.getValue().toString()).strip() + " "
                        + run("blkid", "-o", "value", "-s", "LABEL", fs.getValue().toString()).strip());
            }
            assertThat(types).containsEntry("data", "xfs data").containsEntry("swap", "swap swap")
                    .containsEntry("root", "ext4 system").containsEntry("web", "vfat WEB");
            String fstab = debugfs(lvs.get("root"), "cat /etc/fstab");
            assertThat(fstab).contains(" /data xfs defaults 0 0\n", " /srv/web vfat umask=0022 0 2\n",
                    " /home ext4 defaults 0 2\n", " /boot ext4 defaults 0 2\n")
                    .contains("UUID=" + run("blkid", "-o", "value", "-s", "UUID", swap.toString()).strip()
                            + " none swap sw 0 0\n")
                    .contains("UUID=" + run("blkid", "-o", "value", "-s", "UUID", lvs.get("srv_weblv").toString()).strip()
                            + " /srv/web vfat");
            assertThat(debugfs(lvs.get("homelv"), "cat /alice/.ssh/authorized_keys")).isEqualTo(BuildTest.KEY + "\n");
            assertThat(debugfs(boot, "cat /grub/grub.cfg")).containsPattern("linux /vmlinuz-\\S+-amd64 root=UUID=");
        } finally {
            deleteAll(lvs.values(), boot);
            deleteAll(List.of(data), swap);
        }
    }

    static void deleteAll(java.util.Collection<Path> files, Path more) throws IOException {
        for (Path p : files) {
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(more);
    }

    @Test
    @Order(6)
    void everyTypeIsEnabled() {
        JsonNode types = server.get("/api/v1/compose/types").path("types");
        assertThat(types).hasSize(OutputType.values().length);
        types.forEach(t -> assertThat(t.path("enabled").asBoolean()).as(t.toString()).isTrue());
    }
}
