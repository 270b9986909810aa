package dev.kiln.kickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.blueprint.Customizations;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The mount points a blueprint may ask for (osbuild-composer's rules) and the plan lines they become: one
 * {@code part} each on plain partitions, or a /boot partition, one physical volume and a {@code logvol} each on LVM,
 * as {@code partitioning_mode} decides.
 */
class DiskLayoutPlanTest {

    static Map<String, Object> customizations(String toml) {
        return BlueprintParser.parseToml("name = \"x\"\nversion = \"1.0.0\"\n" + toml).customizations();
    }

    static String problems(String toml) {
        return String.join("; ", Customizations.problems(customizations(toml)));
    }

    static String fs(String mount, String size) {
        return "[[customizations.filesystem]]\nmountpoint = \"" + mount + "\"\nminsize = " + size + "\n";
    }

    @Test
    void mountPointsFollowOsbuildComposersRules() {
        for (String fine : List.of("/", "/boot", "/var", "/var/log", "/home", "/opt", "/srv", "/usr", "/tmp", "/data",
                "/data/db", "/app")) {
            assertThat(problems(fs(fine, "\"1 GiB\""))).as(fine).isEmpty();
        }
        for (String system : List.of("/bin", "/boot/efi", "/dev", "/etc", "/etc/x", "/lib", "/lib64", "/lost+found",
                "/proc", "/run", "/sbin", "/sys", "/sysroot", "/var/lock", "/var/run/x")) {
            assertThat(problems(fs(system, "1073741824"))).as(system).contains("filesystem.mountpoint",
                    "belongs to the system");
        }
        assertThat(problems(fs("/usr/local", "1073741824"))).contains("/usr may be a mount point, what is below it may not");
        for (String bad : List.of("var", "/var/", "/var/../etc", "/var//log", "/a b", "/x\n%post")) {
            assertThat(problems(fs(bad.replace("\n", "\\n"), "1073741824"))).as(bad).contains("filesystem.mountpoint");
        }
        assertThat(problems(fs("/var", "1") + fs("/var", "2"))).contains("listed twice");
        assertThat(problems(fs("/var", "0"))).contains("filesystem.minsize");
        assertThat(problems("[customizations]\npartitioning_mode = \"zfs\"\n")).contains("partitioning_mode");
    }

    @Test
    void plainPartitionsOrLogicalVolumesAsTheModeSays() {
        String mounts = fs("/", "\"4 GiB\"") + fs("/var", "\"600 MiB\"") + fs("/var/log", "268435456");
        assertThat(FinalKickstart.layout(customizations(mounts))).containsExactly(
                "part / --fstype=ext4 --size=4096", "part /var --fstype=ext4 --size=600",
                "part /var/log --fstype=ext4 --size=256");
        assertThat(FinalKickstart.layout(customizations("[customizations]\npartitioning_mode = \"raw\"\n" + mounts)))
                .hasSize(3).allMatch(l -> l.startsWith("part /"));
        assertThat(FinalKickstart.layout(customizations("[customizations]\npartitioning_mode = \"auto-lvm\"\n" + mounts)))
                .containsExactly("part /boot --fstype=ext4 --size=512", "part pv.01 --size=1 --grow",
                        "volgroup rootvg pv.01", "logvol / --vgname=rootvg --name=rootlv --fstype=ext4 --size=4096",
                        "logvol /var --vgname=rootvg --name=varlv --fstype=ext4 --size=600",
                        "logvol /var/log --vgname=rootvg --name=var_loglv --fstype=ext4 --size=256");
        // auto-lvm with only / and /boot stays plain; lvm always makes a volume group
        String small = fs("/", "\"4 GiB\"") + fs("/boot", "\"1 GiB\"");
        assertThat(FinalKickstart.layout(customizations("[customizations]\npartitioning_mode = \"auto-lvm\"\n" + small)))
                .containsExactly("part / --fstype=ext4 --size=4096", "part /boot --fstype=ext4 --size=1024");
        assertThat(FinalKickstart.layout(customizations("[customizations]\npartitioning_mode = \"lvm\"\n" + small)))
                .containsExactly("part /boot --fstype=ext4 --size=1024", "part pv.01 --size=1 --grow",
                        "volgroup rootvg pv.01", "logvol / --vgname=rootvg --name=rootlv --fstype=ext4 --size=4096");
        assertThat(FinalKickstart.layout(customizations("[customizations]\npartitioning_mode = \"lvm\"\n")))
                .contains("logvol / --vgname=rootvg --name=rootlv --fstype=ext4 --size=0");
    }

    static final String DISK = """
            [customizations.disk]
            minsize = "12 GiB"

            [[customizations.disk.partitions]]
            type = "plain"
            mountpoint = "/data"
            fs_type = "xfs"
            label = "data"
            minsize = "1 GiB"

            [[customizations.disk.partitions]]
            fs_type = "swap"
            minsize = "512 MiB"

            [[customizations.disk.partitions]]
            type = "lvm"
            name = "mainvg"
            minsize = "6 GiB"

            [[customizations.disk.partitions.logical_volumes]]
            name = "rootlv"
            mountpoint = "/"
            label = "root"
            minsize = "3 GiB"

            [[customizations.disk.partitions.logical_volumes]]
            mountpoint = "/srv/web"
            fs_type = "vfat"
            label = "WEB"
            minsize = "100 MiB"
            """;

    @Test
    void aDiskCustomizationIsLaidOutInItsOrder() throws Exception {
        assertThat(problems(DISK)).isEmpty();
        List<String> lines = FinalKickstart.layout(customizations(DISK));
        assertThat(lines).containsExactly("part /boot --fstype=ext4 --size=512", "part /data --fstype=xfs --size=1024 --label=data",
                "part swap --fstype=swap --size=512", "part pv.01 --size=6144", "volgroup mainvg pv.01",
                "logvol / --vgname=mainvg --name=rootlv --fstype=ext4 --size=3072 --label=root",
                "logvol /srv/web --vgname=mainvg --name=srv_weblv --fstype=vfat --size=100 --label=WEB",
                "kiln-disk --minsize=12288");
        DiskPlan plan = DiskPlan.parse(Kickstart.parse(String.join("\n", lines) + "\n"));
        assertThat(plan.vg()).isEqualTo("mainvg");
        assertThat(plan.minDisk()).isEqualTo(12L << 30);
        assertThat(plan.rootSize()).isEqualTo(3L << 30);
        assertThat(plan.mountPoints()).containsExactly("/boot", "/data", "/srv/web");
        assertThat(plan.entries().get(2).swap()).isTrue();
        assertThat(plan.entries().get(3).physicalVolume()).isTrue();
        assertThat(plan.entries().get(5).lv()).isEqualTo("srv_weblv");
        // no root given: an ext4 root partition at the end
        assertThat(FinalKickstart.layout(customizations("[[customizations.disk.partitions]]\nmountpoint = \"/data\"\n")))
                .containsExactly("part /data --fstype=ext4 --size=0", "part / --fstype=ext4 --size=0");
    }

    @Test
    void aDiskCustomizationIsRefusedWhereKilnCannotHonourIt() {
        assertThat(problems(DISK + fs("/var", "1073741824"))).contains("cannot be used together with filesystem");
        assertThat(problems("[customizations.disk]\ntype = \"dos\"\n")).contains("disk.type");
        assertThat(problems("[[customizations.disk.partitions]]\ntype = \"btrfs\"\n")).contains("btrfs");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/\"\nfs_type = \"xfs\"\n"))
                .contains("ext4 only");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/var\"\nfs_type = \"vfat\"\n"))
                .contains("ext4 only");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/data\"\nfs_type = \"zfs\"\n"))
                .contains("fs_type");
        assertThat(problems("[[customizations.disk.partitions]]\nfs_type = \"swap\"\nmountpoint = \"/swap\"\n"))
                .contains("swap has none", "a swap area needs its size");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/data\"\nlabel = \"a label far too long\"\n"))
                .contains("disk.partitions.label");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/d\"\nfs_type = \"vfat\"\nlabel = \"lower\"\n"))
                .contains("upper-case");
        String lvm = "[[customizations.disk.partitions]]\ntype = \"lvm\"\nname = \"%s\"\n"
                + "[[customizations.disk.partitions.logical_volumes]]\nname = \"%s\"\nmountpoint = \"%s\"\n";
        assertThat(problems(lvm.formatted("snapshotvg", "x", "/data"))).contains("lvm2 reserves");
        assertThat(problems(lvm.formatted("vg", "a_tmeta", "/data"))).contains("lvm2 reserves");
        assertThat(problems(lvm.formatted("vg;rm", "a", "/data"))).contains("disk.partitions.name");
        assertThat(problems(lvm.formatted("vg", "boot", "/boot"))).contains("/boot is a plain partition");
        assertThat(problems(lvm.formatted("vg", "a", "/data") + lvm.formatted("vg2", "b", "/data2")))
                .contains("one lvm partition");
        assertThat(problems("[[customizations.disk.partitions]]\ntype = \"lvm\"\n")).contains("at least one logical volume");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/etc\"\n")).contains("belongs to the system");
        assertThat(problems("[[customizations.disk.partitions]]\nmountpoint = \"/d\"\npart_uuid = \"x\"\n"))
                .contains("unknown field");
    }
}
