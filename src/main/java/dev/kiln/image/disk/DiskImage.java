package dev.kiln.image.disk;

import dev.kiln.blueprint.Customizations;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.image.tree.Hygiene;
import dev.kiln.image.tree.Kernels;
import dev.kiln.image.tree.Seeds;
import dev.kiln.image.tree.Tree;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The one raw disk every disk type wraps: a GPT with a BIOS boot partition (GRUB's core image for legacy boot), an
 * EFI system partition (FAT32, GRUB's EFI image as the removable-media path {@code \EFI\BOOT\BOOTX64.EFI}) and an
 * ext4 root holding the kernel, its initramfs and {@code /boot/grub/grub.cfg}. No loop device and no mount: sfdisk
 * writes the table into the file, the root file system is made by {@code mke2fs -d} and copied in sparsely, the
 * ESP is made by {@code mkfs.fat --offset} and filled by mtools, and the BIOS boot code is written here as
 * grub-bios-setup would. Every identifier (disk GUID, partition UUIDs, FAT serial) derives from the tree's seed, so
 * the same compose gives the same disk.
 */
public final class DiskImage {

    public static final long MIB = 1024 * 1024;
    private static final long SECTOR = 512;
    public static final String BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";
    public static final String ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    public static final String ROOT_X86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
    /** Linux file-system data: the partitions of mount points other than the root (mounted by fstab). */
    public static final String LINUX_DATA = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
    /** Linux LVM: the physical volume of an LVM layout. */
    public static final String LINUX_LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928";
    private static final long BIOS_START = 1 * MIB;
    private static final long ESP_START = 2 * MIB;
    private static final long ESP_SIZE = 200 * MIB;
    private static final long ROOT_START = ESP_START + ESP_SIZE;
    /** The backup GPT at the end of the disk (33 sectors), rounded to a whole MiB. */
    private static final long TAIL = 1 * MIB;
    static final Path GRUB = Path.of("/usr/lib/grub");
    private static final List<String> GRUB_MODULES = List.of("part_gpt", "part_msdos", "ext2", "search",
            "search_fs_uuid", "normal", "linux", "configfile", "echo", "test", "serial", "terminal", "all_video",
            "gzio", "sleep", "reboot", "halt");

    /** What a disk was made of, for the wrappers and the boot test. */
    public record Disk(Path file, long size, UUID rootFs, String kernel, long sourceDateEpoch) {
    }

    private DiskImage() {
    }

    /** A file system of the disk: where it is mounted, its UUID and label, the directory it is made from. */
    record Volume(String mount, UUID fs, String label, Path source, long size) {
    }

    /**
     * Makes the raw disk {@code out} from a customized tree (which it changes: fstab, grub.cfg). The root file
     * system is what the tree needs, or the size the blueprint asks for {@code /} when larger; each other mount
     * point of the plan gets a partition and a file system of its own (what its part of the tree needs, or its
     * least size when larger); the disk is {@code sizeBytes} when that is larger still (the root takes the rest),
     * rounded up to a MiB.
     */
    public static Disk make(ToolRunner tools, Path scratch, String uuid, long sizeBytes, Tree tree, Path out)
            throws Exception {
        Path dir = tree.dir();
        String kernel = Kernels.bootKernel(dir, "a disk image");
        UUID rootFs = tree.seed();
        List<String> mounts = new ArrayList<>(tree.mounts().keySet());
        Collections.sort(mounts); // a parent before what is mounted below it
        String fatSerial = derive(rootFs, "esp").toString().substring(0, 8).toUpperCase();
        String cmdline = cmdline(dir);
        boolean ownBoot = mounts.contains("/boot");
        UUID bootFs = ownBoot ? derive(rootFs, "fs:/boot") : rootFs;
        String bootPrefix = ownBoot ? "" : "/boot"; // where GRUB finds the kernel on the file system it reads
        Files.createDirectories(dir.resolve("boot/efi"));
        StringBuilder fstab = new StringBuilder("# written by Kiln: the file systems of the disk, by UUID\n"
                + "UUID=" + rootFs + " / ext4 errors=remount-ro 0 1\n");
        for (String m : mounts) {
            fstab.append("UUID=").append(derive(rootFs, "fs:" + m)).append(' ').append(m).append(" ext4 defaults 0 2\n");
        }
        fstab.append("UUID=" + fatSerial.substring(0, 4) + "-" + fatSerial.substring(4)
                + " /boot/efi vfat umask=0077,nofail 0 1\n");
        write(dir.resolve("etc/fstab"), fstab.toString());
        Files.createDirectories(dir.resolve("boot/grub"));
        write(dir.resolve("boot/grub/grub.cfg"), grubConfig("Debian GNU/Linux", bootPrefix + "/vmlinuz-" + kernel,
                bootPrefix + "/initrd.img-" + kernel, "root=UUID=" + rootFs + " ro " + cmdline));
        Hygiene.clampWritten(dir, tree.sourceDateEpoch(), dir.resolve("boot/efi"), dir.resolve("etc/fstab"),
                dir.resolve("boot/grub/grub.cfg"));

        List<MountSplit.Moved> moved = MountSplit.split(dir, mounts, tree.sandbox(), tree.sourceDateEpoch());
        try {
            boolean lvm = !tree.logical().isEmpty();
            long unit = lvm ? Lvm.EXTENT : MIB; // an LV is a whole number of extents
            List<Volume> volumes = new ArrayList<>();
            long others = 0;
            for (MountSplit.Moved m : moved) {
                long size = Math.max(Ext4FileSystem.minimumSize(m.staging()), tree.mounts().get(m.mount()));
                size = roundUp(size, tree.logical().contains(m.mount()) ? unit : MIB);
                others += size;
                volumes.add(new Volume(m.mount(), derive(rootFs, "fs:" + m.mount()), label(m.mount()), m.staging(), size));
            }
            volumes.sort(Comparator.comparing(Volume::mount));
            long overhead = lvm ? Lvm.PE_START + Lvm.EXTENT : 0; // the PV's metadata and a spare extent
            long rootSize = Math.max(Math.max(Ext4FileSystem.minimumSize(dir), tree.rootSize()),
                    sizeBytes - ROOT_START - others - overhead - TAIL);
            rootSize = roundUp(rootSize, unit);
            volumes.add(0, new Volume("/", rootFs, "root", dir, rootSize));
            long size = ROOT_START + rootSize + others + overhead + TAIL;
            Files.deleteIfExists(out);
            try (RandomAccessFile f = new RandomAccessFile(out.toFile(), "rw")) {
                f.setLength(size);
            }
            StringBuilder table = new StringBuilder("label: gpt\n"
                    + "label-id: " + derive(rootFs, "disk") + "\n"
                    + part(BIOS_START, MIB, BIOS_BOOT, derive(rootFs, "bios"), "BIOS boot")
                    + part(ESP_START, ESP_SIZE, ESP, derive(rootFs, "esp-part"), "EFI System"));
            long start = ROOT_START;
            Map<String, Long> starts = new java.util.HashMap<>();
            for (Volume v : volumes) { // plain partitions, the root first
                if (!tree.logical().contains(v.mount())) {
                    starts.put(v.mount(), start);
                    table.append(part(start, v.size(), v.mount().equals("/") ? ROOT_X86_64 : LINUX_DATA,
                            derive(rootFs, v.mount().equals("/") ? "root-part" : "part:" + v.mount()), v.label()));
                    start += v.size();
                }
            }
            long pvStart = start;
            long pvSize = 0;
            if (lvm) { // then one LVM physical volume holding the logical volumes, the root first
                pvSize = overhead + volumes.stream().filter(v -> tree.logical().contains(v.mount()))
                        .mapToLong(Volume::size).sum();
                table.append(part(pvStart, pvSize, LINUX_LVM, derive(rootFs, "part:lvm"), "lvm"));
            }
            tools.run(scratch, List.of("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", out.toString()),
                    Map.of(), table.toString());
            if (lvm) {
                java.util.LinkedHashMap<String, Long> lvs = new java.util.LinkedHashMap<>();
                for (Volume v : volumes) {
                    if (tree.logical().contains(v.mount())) {
                        lvs.put(Customizations.logicalVolume(v.mount()), v.size());
                    }
                }
                Map<String, Long> offsets = Lvm.create(tools, scratch, out, pvStart, pvSize, lvs, rootFs);
                for (Volume v : volumes) {
                    if (tree.logical().contains(v.mount())) {
                        starts.put(v.mount(), pvStart + offsets.get(Customizations.logicalVolume(v.mount())));
                    }
                }
            }
            int n = 0;
            for (Volume v : volumes) {
                Path image = scratch.resolve("fs-" + (n++) + ".ext4");
                try {
                    Ext4FileSystem.make(tools, scratch, uuid, tree, v.source(), v.fs(), v.label(), image, v.size());
                    // the disk file is all holes: blocks of zeros need no writing
                    tools.run(scratch, List.of("dd", "if=" + image, "of=" + out, "bs=1M",
                            "seek=" + starts.get(v.mount()) / MIB, "conv=sparse,notrunc", "status=none"));
                } finally {
                    Files.deleteIfExists(image);
                }
            }
            bootCode(tools, scratch, tree, out, bootFs, bootPrefix, fatSerial);
            StringBuilder parts = new StringBuilder();
            for (Volume v : volumes) {
                parts.append(parts.isEmpty() ? "" : ", ").append(v.size() / MIB).append(" MiB ext4 ").append(v.mount())
                        .append(tree.logical().contains(v.mount()) ? " (LV " + Customizations.logicalVolume(v.mount()) + ")" : "");
            }
            tools.note(String.format("disk: %d MiB GPT (BIOS boot, 200 MiB ESP, %s%s; root %s), kernel %s",
                    size / MIB, parts, lvm ? "; volume group " + Lvm.VG + " on a " + pvSize / MIB + " MiB partition" : "",
                    rootFs, kernel));
            return new Disk(out, size, rootFs, kernel, tree.sourceDateEpoch());
        } finally {
            MountSplit.restore(moved);
        }
    }

    private static long roundUp(long bytes, long unit) {
        return (bytes + unit - 1) / unit * unit;
    }

    /** A partition's and file system's label from its mount point: {@code /var/log} → {@code var-log} (16 at most). */
    static String label(String mount) {
        String l = mount.equals("/") ? "root" : mount.substring(1).replace('/', '-');
        return l.length() <= 16 ? l : l.substring(0, 16);
    }

    /** GRUB for UEFI (the ESP's removable-media path) and for BIOS (core image in the BIOS boot partition). */
    private static void bootCode(ToolRunner tools, Path scratch, Tree tree, Path out, UUID bootFs, String bootPrefix,
            String fatSerial) throws Exception {
        String early = "search --no-floppy --fs-uuid --set=root " + bootFs + "\nset prefix=($root)" + bootPrefix
                + "/grub\n";
        Path earlyCfg = scratch.resolve("grub-early.cfg");
        Files.writeString(earlyCfg, early);
        Path efi = scratch.resolve("BOOTX64.EFI");
        Path core = scratch.resolve("core.img");
        try {
            List<String> mkEfi = new ArrayList<>(List.of("grub-mkimage", "-O", "x86_64-efi", "-d",
                    GRUB.resolve("x86_64-efi").toString(), "-o", efi.toString(), "-p", bootPrefix + "/grub", "-c",
                    earlyCfg.toString()));
            mkEfi.addAll(GRUB_MODULES);
            mkEfi.addAll(List.of("fat", "efi_gop"));
            tools.run(scratch, mkEfi);
            List<String> mkCore = new ArrayList<>(List.of("grub-mkimage", "-O", "i386-pc", "-d",
                    GRUB.resolve("i386-pc").toString(), "-o", core.toString(), "-p", bootPrefix + "/grub", "-c",
                    earlyCfg.toString(), "biosdisk"));
            mkCore.addAll(GRUB_MODULES);
            tools.run(scratch, mkCore);

            Map<String, String> mtoolsEnv = Map.of("MTOOLS_SKIP_CHECK", "1",
                    "SOURCE_DATE_EPOCH", String.valueOf(tree.sourceDateEpoch()));
            tools.run(scratch, List.of("mkfs.fat", "-F", "32", "-s", "1", "--invariant", "-i", fatSerial,
                    "-n", "ESP", "--offset=" + ESP_START / SECTOR, out.toString(), String.valueOf(ESP_SIZE / 1024)),
                    mtoolsEnv, null);
            String esp = out + "@@" + ESP_START;
            tools.run(scratch, List.of("mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"), mtoolsEnv, null);
            tools.run(scratch, List.of("mcopy", "-i", esp, efi.toString(), "::/EFI/BOOT/BOOTX64.EFI"),
                    mtoolsEnv, null);
            installBiosBoot(out, core);
        } finally {
            Files.deleteIfExists(earlyCfg);
            Files.deleteIfExists(efi);
            Files.deleteIfExists(core);
        }
    }

    /** Why this host cannot make LVM disks (no loop device, no lvm2), or null when it can. */
    public static String whyNoLvm() {
        return Lvm.whyNot();
    }

    /** GRUB's menu: one entry, on the serial console and the screen alike. */
    public static String grubConfig(String title, String kernel, String initrd, String options) {
        return "# written by Kiln\n"
                + "serial --unit=0 --speed=115200\n"
                + "terminal_input console serial\n"
                + "terminal_output console serial\n"
                + "set timeout=1\n"
                + "menuentry '" + title + "' {\n"
                + "    linux " + kernel + " " + options.strip() + "\n"
                + "    initrd " + initrd + "\n"
                + "}\n";
    }

    /** The kernel command line the plan asked for ({@code bootloader --append}, kept by the customizer). */
    public static String cmdline(Path tree) throws IOException {
        Path p = tree.resolve("etc/kernel/cmdline");
        String line = Files.isRegularFile(p) ? Files.readString(p).strip() : "";
        if (line.contains("'") || line.contains("\n") || line.contains("\"")) { // validated at submission already
            throw new IOException("the kernel command line may not contain quotes or line breaks");
        }
        return line;
    }

    private static String part(long start, long size, String type, UUID uuid, String name) {
        return "start=" + start / SECTOR + ", size=" + size / SECTOR + ", type=" + type + ", uuid=" + uuid
                + ", name=\"" + name + "\"\n";
    }

    /**
     * What grub-bios-setup does for a GPT disk with a BIOS boot partition: GRUB's boot sector code goes into the
     * first 440 bytes of the protective MBR (its partition entries stay), pointing at the core image, which is
     * written at the start of the BIOS boot partition with its first sector's block list pointing at the rest.
     */
    static void installBiosBoot(Path disk, Path coreImage) throws IOException {
        byte[] boot = Files.readAllBytes(GRUB.resolve("i386-pc/boot.img"));
        byte[] core = Files.readAllBytes(coreImage);
        if (boot.length != SECTOR) {
            throw new IOException("GRUB's boot.img is not one sector");
        }
        if (core.length > MIB || core.length < SECTOR) {
            throw new IOException("GRUB's core image (" + core.length + " bytes) does not fit the BIOS boot partition");
        }
        ByteBuffer b = ByteBuffer.wrap(boot).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer c = ByteBuffer.wrap(core).order(ByteOrder.LITTLE_ENDIAN);
        // the format's fixed places (grub's boot.S / diskboot.S), checked against their defaults before patching
        int kernelSector = 0x5c;
        int driveCheck = 0x66;
        int blocklist = 0x200 - 12;
        if (b.getLong(kernelSector) != 1 || (boot[driveCheck] & 0xff) != 0xeb || c.getLong(blocklist) != 2) {
            throw new IOException("GRUB's boot.img or core.img is not laid out as expected");
        }
        long coreSector = BIOS_START / SECTOR;
        b.putLong(kernelSector, coreSector);
        boot[driveCheck] = (byte) 0x90; // no floppy check: take the drive the BIOS booted from
        boot[driveCheck + 1] = (byte) 0x90;
        c.putLong(blocklist, coreSector + 1);
        try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
            byte[] mbr = new byte[(int) SECTOR];
            f.seek(0);
            f.readFully(mbr);
            System.arraycopy(boot, 0, mbr, 0, 440); // disk signature, partition entries and 0x55AA stay
            f.seek(0);
            f.write(mbr);
            f.seek(BIOS_START);
            f.write(core);
        }
    }

    /** A name-based UUID (version 4 layout) from the tree's seed: stable per compose content, distinct per use. */
    public static UUID derive(UUID seed, String use) {
        try {
            return Seeds.uuidOf(MessageDigest.getInstance("SHA-256").digest((seed + "/" + use).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        Files.deleteIfExists(p);
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }
}
