package dev.kiln.image.disk;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.image.tree.Hygiene;
import dev.kiln.image.tree.Kernels;
import dev.kiln.kickstart.DiskPlan;
import dev.kiln.store.FileTrees;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

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
    /** Linux swap. */
    public static final String LINUX_SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
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

    /**
     * A file system (or swap area) of the disk: its plan entry, UUID, label, the directory it is made from (null for
     * swap), its size, and where it starts in the disk once laid out.
     */
    static final class Volume {
        final DiskPlan.Entry entry;
        final UUID fs;
        final String label;
        Path source;
        long size;
        long start;

        Volume(DiskPlan.Entry entry, UUID fs, String label) {
            this.entry = entry;
            this.fs = fs;
            this.label = label;
        }

        String mount() {
            return entry.mount();
        }
    }

    /**
     * Makes the raw disk {@code out} from a customized tree (which it changes: fstab, grub.cfg) and the plan's
     * layout ({@link DiskPlan}): the root file system is what the tree needs, or the size the plan asks when larger;
     * each other mount point gets a file system of its own (ext4, xfs, vfat) sized the same way, swap areas their
     * size; plain ones on partitions in the plan's order, the rest as logical volumes of one LVM volume group. The
     * disk is {@code sizeBytes} (or the plan's disk size) when that is larger still: the root takes the rest.
     */
    public static Disk make(ToolRunner tools, Path scratch, String uuid, long sizeBytes, Tree tree, Path out,
            Path memory) throws Exception {
        return make(tools, scratch, uuid, sizeBytes, tree, out, memory, null);
    }

    /**
     * Starts touching the memory of a disk to be made in memory: {@code bytes} of zeros where its root will start
     * when it is the disk's first partition ({@link DiskMemory}), into {@code file} (on the same tmpfs as the tree),
     * once {@code when} says so.
     */
    public static DiskMemory touchAhead(Path file, long bytes, java.util.function.BooleanSupplier when) {
        return DiskMemory.start(file, ROOT_START, bytes, when);
    }

    /** As above; a disk made in memory whose root is its first partition takes the memory {@code ahead} touched. */
    public static Disk make(ToolRunner tools, Path scratch, String uuid, long sizeBytes, Tree tree, Path out,
            Path memory, DiskMemory ahead) throws Exception {
        Path dir = tree.dir();
        String kernel = Kernels.bootKernel(dir, "a disk image");
        UUID rootFs = tree.seed();
        DiskPlan plan = tree.disk();
        List<Volume> volumes = new ArrayList<>();
        DiskPlan.Entry pv = null;
        int swaps = 0;
        for (DiskPlan.Entry e : plan.entries()) {
            if (e.physicalVolume()) {
                pv = e;
                volumes.add(new Volume(e, null, "lvm"));
            } else if (e.swap()) {
                swaps++;
                volumes.add(new Volume(e, derive(rootFs, "swap:" + swaps), e.label() != null ? e.label()
                        : "swap" + (swaps > 1 ? swaps : "")));
            } else {
                volumes.add(new Volume(e, e.mount().equals("/") ? rootFs : derive(rootFs, "fs:" + e.mount()),
                        e.label() != null ? e.label() : label(e.mount(), e.fstype())));
            }
        }
        if (volumes.stream().noneMatch(v -> v.mount().equals("/"))) { // the root first, as a plain ext4 partition
            volumes.add(0, new Volume(new DiskPlan.Entry("/", "ext4", null, 0, null), rootFs, "root"));
        }
        Volume root = volumes.stream().filter(v -> v.mount().equals("/")).findFirst().orElseThrow();
        List<Volume> fileSystems = volumes.stream().filter(v -> v.mount().startsWith("/")).toList();
        List<String> mounts = fileSystems.stream().map(Volume::mount).filter(m -> !m.equals("/")).sorted().toList();
        String fatSerial = derive(rootFs, "esp").toString().substring(0, 8).toUpperCase();
        String cmdline = cmdline(dir);
        Volume ownBoot = fileSystems.stream().filter(v -> v.mount().equals("/boot")).findFirst().orElse(null);
        UUID bootFs = ownBoot != null ? ownBoot.fs : rootFs;
        String bootPrefix = ownBoot != null ? "" : "/boot"; // where GRUB finds the kernel on the file system it reads
        Files.createDirectories(dir.resolve("boot/efi"));
        write(dir.resolve("etc/fstab"), fstab(volumes, fatSerial));
        Files.createDirectories(dir.resolve("boot/grub"));
        write(dir.resolve("boot/grub/grub.cfg"), grubConfig("Debian GNU/Linux", bootPrefix + "/vmlinuz-" + kernel,
                bootPrefix + "/initrd.img-" + kernel, "root=UUID=" + rootFs + " ro " + cmdline));
        Hygiene.clampWritten(dir, tree.sourceDateEpoch(), dir.resolve("boot/efi"), dir.resolve("etc/fstab"),
                dir.resolve("boot/grub/grub.cfg"));

        Path disk = null;
        FutureTask<Void> grub = null;
        boolean kept = false;
        List<MountSplit.Moved> moved = MountSplit.split(dir, mounts, tree.sandbox(), tree.sourceDateEpoch());
        try {
            root.source = dir;
            for (MountSplit.Moved m : moved) {
                fileSystems.stream().filter(v -> v.mount().equals(m.mount())).findFirst().orElseThrow().source = m.staging();
            }
            long others = 0;
            for (Volume v : volumes) {
                if (v.entry.physicalVolume() || v == root) {
                    continue;
                }
                v.size = roundUp(Math.max(FileSystems.needs(v.entry.fstype(), v.source, v.mount()), v.entry.minBytes()),
                        v.entry.logical() ? Lvm.EXTENT : MIB);
                others += v.size;
            }
            long overhead = pv != null ? Lvm.PE_START + Lvm.EXTENT : 0; // the PV's metadata and a spare extent
            long target = Math.max(sizeBytes, plan.minDisk());
            long rootMinimum = Ext4FileSystem.minimumSize(tree); // once (a walk unless over the tree cache)
            root.size = roundUp(Math.max(Math.max(rootMinimum, tree.disk().rootSize()),
                    target - ROOT_START - others - overhead - TAIL), root.entry.logical() ? Lvm.EXTENT : MIB);
            Volume pvVolume = volumes.stream().filter(v -> v.entry.physicalVolume()).findFirst().orElse(null);
            if (pvVolume != null) {
                long lvs = volumes.stream().filter(v -> v.entry.logical()).mapToLong(v -> v.size).sum();
                pvVolume.size = roundUp(Math.max(overhead + lvs, pv.minBytes()), MIB);
            }
            long size = ROOT_START + volumes.stream().filter(v -> !v.entry.logical()).mapToLong(v -> v.size).sum() + TAIL;
            Files.deleteIfExists(out);
            // made in the sandbox's work directory, where mke2fs (in the sandbox) can write each ext4 partition in
            // place, and renamed to out when done; or left in memory, next to the tree, when asked and there is room
            // for what the disk holds with a GiB to spare: mke2fs writes there without the disk's page-cache
            // write-back and the wrapper reads it from memory
            Path inMemory = memory != null && tree.sandbox().isPrivateDir(memory) && FileTrees.onTmpfs(memory)
                    && Files.getFileStore(memory).getUsableSpace() > rootMinimum + ROOT_START
                            + others + (1L << 30) ? memory.resolve(out.getFileName().toString()) : null;
            disk = inMemory != null ? inMemory : tree.sandbox().workDir(uuid).resolve(out.getFileName().toString());
            Files.deleteIfExists(disk);
            Volume first = volumes.stream().filter(v -> !v.entry.logical()).findFirst().orElseThrow();
            if (inMemory != null && ahead != null && first == root && ahead.from() == ROOT_START) {
                Path touched = ahead.take();
                if (touched != null) {
                    Files.move(touched, disk, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    tools.note(String.format("disk: %d MiB of its memory touched while the packages installed",
                            ahead.written() / MIB));
                }
            }
            try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
                f.setLength(size);
            }
            StringBuilder table = new StringBuilder("label: gpt\n"
                    + "label-id: " + derive(rootFs, "disk") + "\n"
                    + part(BIOS_START, MIB, BIOS_BOOT, derive(rootFs, "bios"), "BIOS boot")
                    + part(ESP_START, ESP_SIZE, ESP, derive(rootFs, "esp-part"), "EFI System"));
            long start = ROOT_START;
            for (Volume v : volumes) { // the partitions, in the plan's order
                if (v.entry.logical()) {
                    continue;
                }
                v.start = start;
                String type = v.entry.physicalVolume() ? LINUX_LVM : v.entry.swap() ? LINUX_SWAP
                        : v == root ? ROOT_X86_64 : LINUX_DATA;
                String partUuid = v == root ? "root-part" : v.entry.physicalVolume() ? "part:lvm"
                        : "part:" + v.mount() + (v.entry.swap() ? ":" + v.fs : "");
                table.append(part(start, v.size, type, derive(rootFs, partUuid), v.label));
                start += v.size;
            }
            tools.run(scratch, List.of("sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", disk.toString()),
                    Map.of(), table.toString());
            if (pvVolume != null) { // the volume group, then each logical volume's place
                java.util.LinkedHashMap<String, Long> lvs = new java.util.LinkedHashMap<>();
                for (Volume v : volumes) {
                    if (v.entry.logical()) {
                        lvs.put(v.entry.lv(), v.size);
                    }
                }
                Map<String, Long> offsets = Lvm.create(tools, scratch, disk, pvVolume.start, pvVolume.size,
                        plan.vg(), lvs, rootFs);
                for (Volume v : volumes) {
                    if (v.entry.logical()) {
                        v.start = pvVolume.start + offsets.get(v.entry.lv());
                    }
                }
            }
            // GRUB's two images hang on the boot file system's UUID alone: made on another core meanwhile
            grub = new FutureTask<>(() -> {
                grubImages(tools, scratch, bootFs, bootPrefix);
                return null;
            });
            Thread grubThread = new Thread(grub, "grub-" + uuid);
            grubThread.setDaemon(true);
            grubThread.start();
            int n = 0;
            for (Volume v : volumes) {
                if (v.entry.physicalVolume()) {
                    continue;
                }
                if (v.entry.fstype().equals("ext4")) {
                    Ext4FileSystem.makeIn(tools, scratch, uuid, tree, v.source, v.fs, v.label, disk, v.start, v.size);
                    continue;
                }
                Path image = scratch.resolve("fs-" + (n++) + ".img");
                try {
                    FileSystems.make(tools, scratch, tree, v.entry.fstype(), v.source, v.fs, v.label, image, v.size);
                    // the disk file is all holes: blocks of zeros need no writing
                    tools.run(scratch, List.of("dd", "if=" + image, "of=" + disk, "bs=1M",
                            "seek=" + v.start / MIB, "conv=sparse,notrunc", "status=none"));
                } finally {
                    Files.deleteIfExists(image);
                }
            }
            bootCode(tools, scratch, tree, disk, grub, fatSerial);
            if (inMemory == null) {
                tree.sandbox().moveOut(tools, disk, out);
            }
            StringBuilder parts = new StringBuilder();
            for (Volume v : volumes) {
                if (!v.entry.physicalVolume()) {
                    parts.append(parts.isEmpty() ? "" : ", ").append(v.size / MIB).append(" MiB ")
                            .append(v.entry.fstype()).append(v.entry.swap() ? "" : " " + v.mount())
                            .append(v.entry.logical() ? " (LV " + v.entry.lv() + ")" : "");
                }
            }
            tools.note(String.format("disk: %d MiB GPT (BIOS boot, 200 MiB ESP, %s%s; root %s), kernel %s",
                    size / MIB, parts, pvVolume != null ? "; volume group " + plan.vg() + " on a "
                            + pvVolume.size / MIB + " MiB partition" : "", rootFs, kernel));
            kept = true;
            return new Disk(inMemory != null ? inMemory : out, size, rootFs, kernel, tree.sourceDateEpoch());
        } finally {
            if (grub != null && !kept) {
                try {
                    grub.get(); // its files go with the scratch directory, once it is done writing them
                } catch (ExecutionException e) {
                    // the build failed before it needed them
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // cancelled: the scratch directory goes anyway
                }
            }
            if (disk != null && !kept) {
                Files.deleteIfExists(disk);
            }
            MountSplit.restore(moved);
        }
    }

    /**
     * {@code /etc/fstab}: the root, the other file systems parents first, swap areas, the ESP; each by UUID (a FAT
     * file system's is its serial).
     */
    static String fstab(List<Volume> volumes, String fatSerial) {
        StringBuilder fstab = new StringBuilder("# written by Kiln: the file systems of the disk, by UUID\n");
        List<Volume> order = new ArrayList<>(volumes.stream().filter(v -> v.mount().startsWith("/")).toList());
        order.sort(Comparator.comparing(Volume::mount));
        for (Volume v : order) {
            String id = v.entry.fstype().equals("vfat") ? FileSystems.fatSerial(v.fs) : v.fs.toString();
            String options = v.mount().equals("/") ? "errors=remount-ro 0 1" : switch (v.entry.fstype()) {
                case "xfs" -> "defaults 0 0";
                case "vfat" -> "umask=0022 0 2";
                default -> "defaults 0 2";
            };
            fstab.append("UUID=").append(id).append(' ').append(v.mount()).append(' ').append(v.entry.fstype())
                    .append(' ').append(options).append('\n');
        }
        for (Volume v : volumes) {
            if (v.entry.swap()) {
                fstab.append("UUID=").append(v.fs).append(" none swap sw 0 0\n");
            }
        }
        fstab.append("UUID=" + fatSerial.substring(0, 4) + "-" + fatSerial.substring(4)
                + " /boot/efi vfat umask=0077,nofail 0 1\n");
        return fstab.toString();
    }

    /**
     * A partition's and file system's label from its mount point: {@code /var/log} → {@code var-log}, cut to what
     * the type allows (vfat: upper case, 11).
     */
    static String label(String mount, String fstype) {
        String l = mount.equals("/") ? "root" : mount.substring(1).replace('/', '-');
        int max = switch (fstype) {
            case "xfs" -> 12;
            case "vfat" -> 11;
            default -> 16;
        };
        l = l.length() <= max ? l : l.substring(0, max);
        return fstype.equals("vfat") ? l.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9_-]", "_") : l;
    }

    private static long roundUp(long bytes, long unit) {
        return (bytes + unit - 1) / unit * unit;
    }

    /** A partition's and file system's label from its mount point: {@code /var/log} → {@code var-log} (16 at most). */
    static String label(String mount) {
        String l = mount.equals("/") ? "root" : mount.substring(1).replace('/', '-');
        return l.length() <= 16 ? l : l.substring(0, 16);
    }

    /** GRUB's EFI image and BIOS core for a boot file system, into the scratch directory. */
    private static void grubImages(ToolRunner tools, Path scratch, UUID bootFs, String bootPrefix) throws Exception {
        String early = "search --no-floppy --fs-uuid --set=root " + bootFs + "\nset prefix=($root)" + bootPrefix
                + "/grub\n";
        Path earlyCfg = scratch.resolve("grub-early.cfg");
        Files.writeString(earlyCfg, early);
        try {
            List<String> mkEfi = new ArrayList<>(List.of("grub-mkimage", "-O", "x86_64-efi", "-d",
                    GRUB.resolve("x86_64-efi").toString(), "-o", scratch.resolve("BOOTX64.EFI").toString(), "-p",
                    bootPrefix + "/grub", "-c", earlyCfg.toString()));
            mkEfi.addAll(GRUB_MODULES);
            mkEfi.addAll(List.of("fat", "efi_gop"));
            tools.run(scratch, mkEfi);
            List<String> mkCore = new ArrayList<>(List.of("grub-mkimage", "-O", "i386-pc", "-d",
                    GRUB.resolve("i386-pc").toString(), "-o", scratch.resolve("core.img").toString(), "-p",
                    bootPrefix + "/grub", "-c", earlyCfg.toString(), "biosdisk"));
            mkCore.addAll(GRUB_MODULES);
            tools.run(scratch, mkCore);
        } finally {
            Files.deleteIfExists(earlyCfg);
        }
    }

    /**
     * GRUB for UEFI (the ESP's removable-media path) and for BIOS (core image in the BIOS boot partition), once
     * {@code grub} has made their images.
     */
    private static void bootCode(ToolRunner tools, Path scratch, Tree tree, Path out, FutureTask<Void> grub,
            String fatSerial) throws Exception {
        Path efi = scratch.resolve("BOOTX64.EFI");
        Path core = scratch.resolve("core.img");
        try {
            try {
                grub.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
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
            Files.deleteIfExists(efi);
            Files.deleteIfExists(core);
        }
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
