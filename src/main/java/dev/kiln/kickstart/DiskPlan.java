package dev.kiln.kickstart;

import dev.kiln.blueprint.Customizations;
import dev.kiln.blueprint.DiskCustomization;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The disk layout a plan asks for, read from its lines in their order: {@code part MOUNT|swap --fstype=T --size=MiB
 * [--label=L]} for a plain partition, {@code part pv.01 --size=MiB} for the one LVM physical volume (where it is in
 * the partition table), {@code volgroup VG pv.01}, and {@code logvol MOUNT|swap --vgname=VG --name=LV --fstype=T
 * --size=MiB [--label=L]} for each logical volume. A plan without any asks for nothing: disks then have one root.
 *
 * @param entries partitions and logical volumes in the plan's order ({@code pv} marks the physical volume)
 * @param vg      the volume group's name, null without LVM
 * @param minDisk the least size of the whole disk ({@code kiln-disk --minsize=MiB}), 0 when not given
 */
public record DiskPlan(List<Entry> entries, String vg, long minDisk) {

    /**
     * One file system (or swap area, or the physical volume): {@code mount} is a mount point, {@code swap} or
     * {@code pv}; {@code lv} the logical volume's name, null for a partition; {@code minBytes} 0 when the plan gives
     * no size (what the tree needs).
     */
    public record Entry(String mount, String fstype, String label, long minBytes, String lv) {

        public boolean logical() {
            return lv != null;
        }

        public boolean swap() {
            return mount.equals("swap");
        }

        public boolean physicalVolume() {
            return mount.equals("pv");
        }
    }

    public static final DiskPlan NONE = new DiskPlan(List.of(), null, 0);

    /** The size the plan asks for the root file system, 0 when it does not. */
    public long rootSize() {
        return entries.stream().filter(e -> e.mount().equals("/")).mapToLong(Entry::minBytes).findFirst().orElse(0);
    }

    /** The mount points other than the root that get file systems of their own. */
    public List<String> mountPoints() {
        return entries.stream().map(Entry::mount).filter(m -> m.startsWith("/") && !m.equals("/")).toList();
    }

    public boolean lvm() {
        return vg != null;
    }

    /** Reads the layout lines of a plan; an edited template that breaks the rules is refused here. */
    public static DiskPlan parse(Kickstart plan) throws PlanException {
        List<Entry> entries = new ArrayList<>();
        String vg = null;
        boolean pv = false;
        long minDisk = 0;
        Set<String> seen = new HashSet<>();
        for (String line : plan.commands()) {
            KickstartArgs c = KickstartArgs.parse(line);
            switch (c.command()) {
                case "part", "logvol" -> {
                    if (c.words().size() != 1) {
                        throw new PlanException(line + ": one mount point, swap or pv.01");
                    }
                    String what = c.words().get(0);
                    long size = size(line, c.options().getOrDefault("size", "0"));
                    if (c.command().equals("part") && what.equals("pv.01")) {
                        if (pv) {
                            throw new PlanException(line + ": Kiln writes one physical volume");
                        }
                        pv = true;
                        entries.add(new Entry("pv", "lvm", null, size, null));
                        continue;
                    }
                    String lv = null;
                    if (c.command().equals("logvol")) {
                        lv = c.options().get("name");
                        if (vg == null || !vg.equals(c.options().get("vgname"))) {
                            throw new PlanException(line + ": no volume group " + c.options().get("vgname"));
                        }
                        if (lv == null || DiskCustomization.lvmNameProblem(lv) != null) {
                            throw new PlanException(line + ": not a logical volume name: " + lv);
                        }
                    }
                    String fstype = c.options().getOrDefault("fstype", "ext4");
                    if (!DiskCustomization.FS_TYPES.contains(fstype)) {
                        throw new PlanException(line + ": Kiln makes ext4, xfs, vfat and swap, not " + fstype);
                    }
                    if (what.equals("swap") != fstype.equals("swap")) {
                        throw new PlanException(line + ": swap has no mount point, and a mount point is not swap");
                    }
                    if (!what.equals("swap")) {
                        String why = Customizations.mountPointProblem(what);
                        if (why != null) {
                            throw new PlanException(line + ": " + why);
                        }
                        if (!seen.add(what)) {
                            throw new PlanException(line + ": " + what + " twice");
                        }
                    }
                    String label = c.options().get("label");
                    if (label != null && DiskCustomization.labelProblem(label, fstype) != null) {
                        throw new PlanException(line + ": " + DiskCustomization.labelProblem(label, fstype));
                    }
                    entries.add(new Entry(what, fstype, label, size, lv));
                }
                case "volgroup" -> {
                    if (vg != null || c.words().size() != 2 || !c.words().get(1).equals("pv.01") || !pv
                            || DiskCustomization.lvmNameProblem(c.words().get(0)) != null) {
                        throw new PlanException(line + ": one volume group NAME on pv.01, after its part line");
                    }
                    vg = c.words().get(0);
                }
                case "kiln-disk" -> minDisk = size(line, c.options().getOrDefault("minsize", "0"));
                default -> { }
            }
        }
        if (pv != (vg != null)) {
            throw new PlanException("the plan has a physical volume without a volume group, or the reverse");
        }
        if (vg != null && entries.stream().noneMatch(Entry::logical)) {
            throw new PlanException("the plan's volume group " + vg + " has no logical volume");
        }
        return entries.isEmpty() && minDisk == 0 ? NONE : new DiskPlan(List.copyOf(entries), vg, minDisk);
    }

    private static long size(String line, String mib) throws PlanException {
        if (!mib.matches("[0-9]{1,8}")) {
            throw new PlanException(line + ": --size is a number of MiB");
        }
        return Long.parseLong(mib) << 20;
    }
}
