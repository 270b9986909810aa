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
}
