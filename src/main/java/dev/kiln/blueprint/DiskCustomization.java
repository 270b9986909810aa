package dev.kiln.blueprint;

import static dev.kiln.blueprint.Customizations.list;
import static dev.kiln.blueprint.Customizations.show;
import static dev.kiln.blueprint.Customizations.table;
import static dev.kiln.blueprint.Customizations.tables;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The grammar of {@code [customizations.disk]} as osbuild-composer's blueprint reference describes it: a list of
 * {@code partitions}, each {@code plain} (a file system or swap: {@code fs_type} ext4, xfs, vfat or swap,
 * {@code mountpoint}, {@code label}, {@code minsize}) or {@code lvm} (one volume group: {@code name},
 * {@code minsize}, {@code logical_volumes} with the same fields and a {@code name}), in the order the disk gets
 * them; {@code minsize} of the disk; {@code type} gpt. The root, when the list has none, is added as an ext4
 * partition at the end; a root on LVM gets a /boot partition. Refused: btrfs (Kiln makes none), dos tables, the
 * root or /boot on anything but ext4 (GRUB reads the kernel there, and the tree's files need owners and links),
 * /usr and /var on anything but ext4, /boot on a logical volume, and mixing it with {@code filesystem}.
 */
public final class DiskCustomization {

    public static final Set<String> FS_TYPES = Set.of("ext4", "xfs", "vfat", "swap");
    private static final Set<String> DISK_KEYS = Set.of("minsize", "type", "partitions");
    private static final Set<String> PLAIN_KEYS = Set.of("type", "mountpoint", "label", "fs_type", "minsize");
    private static final Set<String> LVM_KEYS = Set.of("type", "name", "minsize", "logical_volumes");
    private static final Set<String> LV_KEYS = Set.of("name", "mountpoint", "label", "fs_type", "minsize");
    private static final Set<String> EXT4_ONLY = Set.of("/", "/boot", "/usr", "/var");
    private static final Pattern LVM_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_+.-]{0,62}");
    private static final List<String> LVM_RESERVED = List.of("_cdata", "_cmeta", "_corig", "_mlog", "_mimage",
            "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata");

    private DiskCustomization() {
    }

    /** Why a volume group's or logical volume's name is refused, or null. */
    public static String lvmNameProblem(String name) {
        if (name == null || !LVM_NAME.matcher(name).matches()) {
            return "a letter, then up to 62 letters, digits and _ + . -";
        }
        if (name.startsWith("snapshot") || name.startsWith("pvmove") || LVM_RESERVED.stream().anyMatch(name::contains)) {
            return "lvm2 reserves names that start with snapshot or pvmove or hold " + String.join(", ", LVM_RESERVED);
        }
        return null;
    }

    /** Why a file-system label is refused for this type, or null: ext4 16, xfs 12, swap 15, vfat 11 characters. */
    public static String labelProblem(String label, String fstype) {
        int max = switch (fstype) {
            case "xfs" -> 12;
            case "vfat" -> 11;
            case "swap" -> 15;
            default -> 16;
        };
        Pattern p = fstype.equals("vfat") ? Pattern.compile("[A-Z0-9_][A-Z0-9_-]{0," + (max - 1) + "}")
                : Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0," + (max - 1) + "}");
        return p.matcher(label).matches() ? null : "a " + fstype + " label is 1 to " + max + (fstype.equals("vfat")
                ? " upper-case letters, digits, _ and - (not first)" : " letters, digits, _ . and - (not first)");
    }

    static void problems(List<String> p, Map<String, Object> c) {
        if (!c.containsKey("disk")) {
            return;
        }
        if (c.containsKey("filesystem")) {
            p.add("disk: cannot be used together with filesystem (osbuild-composer's rule): give every mount point "
                    + "under disk");
        }
        if (c.containsKey("partitioning_mode")) {
            p.add("disk: partitioning_mode applies to filesystem customizations; disk says where LVM is");
        }
        Map<?, ?> disk = table(p, "disk", c.get("disk"));
        Customizations.unknownKeys(p, "disk", disk, DISK_KEYS);
        if (disk.containsKey("type") && !"gpt".equals(disk.get("type"))) {
            p.add("disk.type: Kiln writes GPT disks (BIOS boot partition and ESP included): " + show(disk.get("type")));
        }
        if (disk.containsKey("minsize") && Customizations.size(disk.get("minsize")) <= 0) {
            p.add("disk.minsize: a positive size such as \"20 GiB\", at most 16 TiB: " + show(disk.get("minsize")));
        }
        List<Map<?, ?>> parts = tables(p, "disk.partitions", disk.get("partitions"));
        if (parts.size() > 32) {
            p.add("disk.partitions: at most 32");
        }
        Set<String> mounts = new HashSet<>();
        Set<String> names = new HashSet<>();
        int groups = 0;
        for (Map<?, ?> part : parts) {
            Object type = part.containsKey("type") ? part.get("type") : "plain";
            if ("plain".equals(type)) {
                Customizations.unknownKeys(p, "disk.partitions", part, PLAIN_KEYS);
                volume(p, "disk.partitions", part, mounts, false);
            } else if ("lvm".equals(type)) {
                Customizations.unknownKeys(p, "disk.partitions", part, LVM_KEYS);
                if (++groups > 1) {
                    p.add("disk.partitions: one lvm partition (volume group) at most");
                }
                if (part.containsKey("name")) {
                    name(p, "disk.partitions.name", part.get("name"));
                }
                if (part.containsKey("minsize") && Customizations.size(part.get("minsize")) <= 0) {
                    p.add("disk.partitions.minsize: a positive size: " + show(part.get("minsize")));
                }
                List<Map<?, ?>> lvs = tables(p, "disk.partitions.logical_volumes", part.get("logical_volumes"));
                if (lvs.isEmpty()) {
                    p.add("disk.partitions.logical_volumes: an lvm partition needs at least one logical volume");
                }
                for (Map<?, ?> lv : lvs) {
                    Customizations.unknownKeys(p, "disk.partitions.logical_volumes", lv, LV_KEYS);
                    if (lv.containsKey("name")) {
                        name(p, "disk.partitions.logical_volumes.name", lv.get("name"));
                        if (lv.get("name") instanceof String n && !names.add(n)) {
                            p.add("disk.partitions.logical_volumes.name: twice: " + show(n));
                        }
                    }
                    volume(p, "disk.partitions.logical_volumes", lv, mounts, true);
                }
            } else if ("btrfs".equals(type)) {
                p.add("disk.partitions.type: Kiln does not make btrfs file systems (plain and lvm it does)");
            } else {
                p.add("disk.partitions.type: plain, lvm or btrfs: " + show(type));
            }
        }
    }

    private static void volume(List<String> p, String field, Map<?, ?> v, Set<String> mounts, boolean logical) {
        Object fs = v.containsKey("fs_type") ? v.get("fs_type") : "ext4";
        if (!(fs instanceof String f && FS_TYPES.contains(f))) {
            p.add(field + ".fs_type: ext4, xfs, vfat or swap: " + show(fs));
            return;
        }
        Object mount = v.get("mountpoint");
        if (fs.equals("swap")) {
            if (mount != null && !"".equals(mount)) {
                p.add(field + ".mountpoint: swap has none: " + show(mount));
            }
            if (Customizations.size(v.get("minsize")) <= 0) {
                p.add(field + ".minsize: a swap area needs its size: " + show(v.get("minsize")));
            }
        } else {
            String why = Customizations.mountPointProblem(mount);
            if (why != null) {
                p.add(field + ".mountpoint: " + why + ": " + show(mount));
                return;
            }
            if (!mounts.add((String) mount)) {
                p.add(field + ".mountpoint: twice: " + show(mount));
            }
            if (EXT4_ONLY.contains(mount) && !fs.equals("ext4")) {
                p.add(field + ".fs_type: " + mount + " holds the system's files (owners, links) and, for / and /boot, "
                        + "the kernel GRUB reads: ext4 only");
            }
            if (logical && mount.equals("/boot")) {
                p.add(field + ".mountpoint: /boot is a plain partition (GRUB reads it without LVM)");
            }
            if (v.containsKey("minsize") && Customizations.size(v.get("minsize")) <= 0) {
                p.add(field + ".minsize: a positive size such as \"2 GiB\", at most 16 TiB: " + show(v.get("minsize")));
            }
        }
        if (v.containsKey("label")) {
            String why = v.get("label") instanceof String l ? labelProblem(l, (String) fs) : "must be a string";
            if (why != null) {
                p.add(field + ".label: " + why + ": " + show(v.get("label")));
            }
        }
    }

    private static void name(List<String> p, String field, Object name) {
        String why = name instanceof String s ? lvmNameProblem(s) : "must be a string";
        if (why != null) {
            p.add(field + ": " + why + ": " + show(name));
        }
    }

    /** Whether the disk customization puts anything on LVM. */
    public static boolean lvm(Map<String, Object> c) {
        if (c.get("disk") instanceof Map<?, ?> disk) {
            for (Object part : list(new java.util.ArrayList<>(), "disk.partitions", disk.get("partitions"))) {
                if (part instanceof Map<?, ?> m && "lvm".equals(m.get("type"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether any file system of the disk customization is of this type. */
    public static boolean uses(Map<String, Object> c, String fstype) {
        if (c.get("disk") instanceof Map<?, ?> disk) {
            for (Object part : list(new java.util.ArrayList<>(), "disk.partitions", disk.get("partitions"))) {
                if (part instanceof Map<?, ?> m) {
                    if (fstype.equals(m.get("fs_type"))) {
                        return true;
                    }
                    for (Object lv : list(new java.util.ArrayList<>(), "lv", m.get("logical_volumes"))) {
                        if (lv instanceof Map<?, ?> l && fstype.equals(l.get("fs_type"))) {
                            return true;
                        }
                    }
                }
            }
        }
        return false;
    }
}
