package dev.kiln.image;

import dev.kiln.output.OutputType;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The host programs (and GRUB's module directories) each output type's build runs, with the Debian package that has
 * each: what {@code compose types} marks a type enabled by, what {@code compose start} refuses a type for, and what
 * the start-up check names. Every build runs the sandbox's and the tree's tools; then each kind its own.
 */
public final class HostTools {

    /** Tool (a program on PATH, or an absolute path) → the Debian package that has it. */
    static final Map<String, String> PACKAGES = new LinkedHashMap<>();

    static {
        PACKAGES.put("cp", "coreutils");
        PACKAGES.put("unshare", "util-linux");
        PACKAGES.put("setpriv", "util-linux");
        PACKAGES.put("dpkg-deb", "dpkg");
        PACKAGES.put("xz", "xz-utils");
        PACKAGES.put("mke2fs", "e2fsprogs");
        PACKAGES.put("dumpe2fs", "e2fsprogs");
        PACKAGES.put("sfdisk", "fdisk");
        PACKAGES.put("mkfs.fat", "dosfstools");
        PACKAGES.put("mcopy", "mtools");
        PACKAGES.put("mmd", "mtools");
        PACKAGES.put("grub-mkimage", "grub-common");
        PACKAGES.put("/usr/lib/grub/i386-pc", "grub-pc-bin");
        PACKAGES.put("/usr/lib/grub/x86_64-efi", "grub-efi-amd64-bin");
        PACKAGES.put("qemu-img", "qemu-utils");
        PACKAGES.put("pigz", "pigz");
        PACKAGES.put("mksquashfs", "squashfs-tools");
        PACKAGES.put("grub-mkrescue", "grub-common");
        PACKAGES.put("xorriso", "xorriso");
    }

    private static final List<String> EVERY = List.of("cp", "unshare", "setpriv", "dpkg-deb");
    private static final List<String> DISK = List.of("mke2fs", "dumpe2fs", "sfdisk", "mkfs.fat", "mcopy", "mmd",
            "grub-mkimage", "/usr/lib/grub/i386-pc", "/usr/lib/grub/x86_64-efi");
    static final Map<OutputType, List<String>> NEEDS = new EnumMap<>(OutputType.class);

    static {
        for (OutputType t : OutputType.values()) {
            List<String> needs = new ArrayList<>(EVERY);
            switch (t) {
                case TAR -> needs.add("xz");
                case EXT4_FILESYSTEM -> needs.addAll(List.of("mke2fs", "dumpe2fs"));
                case PARTITIONED_DISK, AMI -> needs.addAll(DISK);
                case QCOW2, VMDK, VHD, OPENSTACK, ALIBABA -> {
                    needs.addAll(DISK);
                    needs.add("qemu-img");
                }
                case GOOGLE -> {
                    needs.addAll(DISK);
                    needs.add("pigz");
                }
                case LIVE_ISO -> needs.addAll(List.of("mksquashfs", "grub-mkrescue", "xorriso", "mcopy",
                        "/usr/lib/grub/i386-pc", "/usr/lib/grub/x86_64-efi"));
            }
            NEEDS.put(t, List.copyOf(needs));
        }
    }

    private HostTools() {
    }

    /** What {@code type}'s build needs and this host lacks, each as {@code tool (package)}; empty when it has all. */
    public static List<String> missing(OutputType type) {
        return missing(type, System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    }

    static List<String> missing(OutputType type, String path) {
        List<String> out = new ArrayList<>();
        for (String tool : NEEDS.get(type)) {
            if (!present(tool, path)) {
                out.add(tool + " (" + PACKAGES.get(tool) + ")");
            }
        }
        return out;
    }

    /** The Debian packages that would give {@code missing} (as {@link #missing} words it), each once. */
    public static Set<String> packages(List<String> missing) {
        Set<String> out = new LinkedHashSet<>();
        missing.forEach(m -> out.add(m.substring(m.indexOf('(') + 1, m.length() - 1)));
        return out;
    }

    private static boolean present(String tool, String path) {
        if (tool.startsWith("/")) {
            return Files.isDirectory(Path.of(tool));
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        // the sbin directories hold mke2fs, sfdisk and mkfs.fat; a service's PATH may leave them out
        return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
    }

    /** Why this host cannot write LVM disks (no loop device it may use, no lvm2), or null when it can. */
    public static String whyNoLvm() {
        if (!Files.isWritable(Path.of("/dev/loop-control"))) {
            return "there is no writable /dev/loop-control (LVM layouts need a loop device, hence root)";
        }
        if (executable("lvm") == null) {
            return "this host lacks lvm (apt install lvm2)";
        }
        if (executable("losetup") == null) {
            return "this host lacks losetup (apt install mount)";
        }
        return null;
    }

    /** Why this host cannot make xfs file systems (no mkfs.xfs), or null when it can. */
    public static String whyNoXfs() {
        return executable("mkfs.xfs") == null ? "this host lacks mkfs.xfs (apt install xfsprogs)" : null;
    }

    /** The program on PATH or in the system directories, or null. */
    private static Path executable(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool);
            }
        }
        return null;
    }
}
