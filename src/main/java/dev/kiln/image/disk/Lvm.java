package dev.kiln.image.disk;

import dev.kiln.image.sandbox.ToolRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An LVM volume group written into a disk file by lvm2's own tools: a loop device over the physical volume's
 * partition (the one place Kiln uses one), {@code pvcreate}, {@code vgcreate} and one {@code lvcreate} per volume,
 * none of them activated ({@code --driverloaded n}: no device-mapper is needed, and nothing appears on the host).
 * lvm2 sees only that loop device and reads no configuration of the host's; each volume's place in the disk is
 * read back from {@code pvs} and {@code lvs}, and the file systems are written there afterwards.
 */
final class Lvm {

    static final long EXTENT = 4L << 20;
    /** Where the physical volume's extents start (lvm2's default alignment), after its label and metadata. */
    static final long PE_START = 1L << 20;

    private Lvm() {
    }

    /**
     * Writes the volume group {@code vg} with the logical volumes {@code lvs} (name → size, in this order) on the
     * physical volume at {@code pvStart} of {@code disk}; answers each volume's offset from {@code pvStart}.
     */
    static Map<String, Long> create(ToolRunner tools, Path scratch, Path disk, long pvStart, long pvSize, String vg,
            LinkedHashMap<String, Long> lvs, UUID seed) throws Exception {
        String loop = tools.run(scratch, List.of("losetup", "--find", "--show", "--offset=" + pvStart,
                "--sizelimit=" + pvSize, disk.toString())).strip();
        if (!loop.matches("/dev/loop[0-9]{1,4}")) {
            throw new IOException("losetup answered no loop device: " + loop);
        }
        Path system = Files.createDirectories(scratch.resolve("lvm"));
        Map<String, String> env = Map.of("LVM_SYSTEM_DIR", system.toString(), "LVM_SUPPRESS_FD_WARNINGS", "1");
        try {
            String config = "devices { filter=[\"a|^" + loop + "$|\",\"r|.*|\"] obtain_device_list_from_udev=0 "
                    + "use_devicesfile=0 } activation { udev_sync=0 udev_rules=0 monitoring=0 } "
                    + "backup { backup=0 archive=0 }";
            List<String> common = List.of("--driverloaded", "n", "--nolocking", "--config", config);
            tools.run(scratch, lvm("pvcreate", common, "-y", "--uuid", pvUuid(seed), "--norestorefile",
                    "--dataalignment", "1m", loop), env, null);
            tools.run(scratch, lvm("vgcreate", common, "-s", EXTENT / 1024 + "k", vg, loop), env, null);
            for (Map.Entry<String, Long> lv : lvs.entrySet()) {
                tools.run(scratch, lvm("lvcreate", common, "-y", "--activate", "n", "--zero", "n", "--wipesignatures",
                        "n", "-L", lv.getValue() + "b", "-n", lv.getKey(), vg), env, null);
            }
            // the tools' warnings (activation disabled) come with their output: only lines of the asked form count
            List<String> pe = tools.run(scratch, lvm("pvs", common, "--noheadings", "--nosuffix", "--units", "b",
                    "-o", "pe_start", loop), env, null).lines().map(String::strip).filter(l -> l.matches("[0-9]{1,15}"))
                    .toList();
            if (pe.size() != 1) {
                throw new IOException("pvs printed no start of the physical extents");
            }
            long peStart = Long.parseLong(pe.get(0));
            Map<String, Long> offsets = new HashMap<>();
            // one line per segment: "NAME|/dev/loopN:FIRST-LAST"
            for (String line : tools.run(scratch, lvm("lvs", common, "--noheadings", "--separator", "|", "-o",
                    "lv_name,seg_pe_ranges", vg), env, null).lines().map(String::strip)
                    .filter(l -> l.matches("[A-Za-z0-9_.+-]+\\|\\S+:[0-9]+-[0-9]+")).toList()) {
                String[] f = line.split("\\|");
                long first = Long.parseLong(f[1].substring(f[1].lastIndexOf(':') + 1, f[1].lastIndexOf('-')));
                if (offsets.put(f[0], peStart + first * EXTENT) != null) {
                    throw new IOException("logical volume " + f[0] + " has more than one segment");
                }
            }
            if (!offsets.keySet().equals(lvs.keySet())) {
                throw new IOException("lvs lists " + offsets.keySet() + ", not the volumes made: " + lvs.keySet());
            }
            return offsets;
        } finally {
            tools.run(scratch, List.of("losetup", "-d", loop));
        }
    }

    private static List<String> lvm(String command, List<String> common, String... args) {
        List<String> out = new ArrayList<>(List.of("lvm", command));
        out.addAll(common);
        out.addAll(List.of(args));
        return out;
    }

    /** A physical-volume UUID in lvm2's form (32 of [A-Za-z0-9], grouped 6-4-4-4-4-4-6) from the compose's seed. */
    static String pvUuid(UUID seed) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        String hex = DiskImage.derive(seed, "lvm-pv").toString().replace("-", "")
                + DiskImage.derive(seed, "lvm-pv-2").toString().replace("-", "");
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            id.append(alphabet.charAt(Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16) % alphabet.length()));
        }
        int[] groups = {6, 4, 4, 4, 4, 4, 6};
        StringBuilder out = new StringBuilder();
        int at = 0;
        for (int g : groups) {
            out.append(out.isEmpty() ? "" : "-").append(id, at, at + g);
            at += g;
        }
        return out.toString();
    }
}
