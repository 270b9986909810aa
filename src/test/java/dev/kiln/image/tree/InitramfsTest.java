package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.kickstart.Kickstart;
import dev.kiln.kickstart.PlanException;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** The module set a type's template names for its initramfs: names only, the root file system's added. */
class InitramfsTest {

    static Kickstart plan(String line) {
        return Kickstart.parse("lang en_US.UTF-8\n" + line + "\n%packages\nlinux-image-amd64\n%end\n");
    }

    @Test
    void theTemplatesModulesAndTheRootFileSystemsAreTheSet() throws Exception {
        assertThat(Initramfs.modules(plan("initramfs --modules=virtio_blk,nvme,ext4")))
                .containsExactly("virtio_blk", "nvme", "ext4", "crc32c_generic", "dm_mod");
    }

    @Test
    void withoutTheCommandInitramfsToolsChooses() throws Exception {
        assertThat(Initramfs.modules(plan("keyboard us"))).isNull(); // MODULES=most, as a template of old
    }

    @Test
    void anythingButModuleNamesIsRefused() {
        for (String bad : new String[] {"initramfs --modules=virtio_blk;reboot", "initramfs --modules=",
                "initramfs --modules=../../etc/passwd", "initramfs --modules=\"a b\"", "initramfs virtio_blk",
                "initramfs --modules=nvme --compress=xz", "initramfs --modules=" + "x".repeat(65),
                "initramfs --modules=" + String.join(",", Collections.nCopies(201, "nvme")),
                "initramfs --modules=nv\u0000me", "initramfs --modules=nvme\u00e9"}) {
            assertThatThrownBy(() -> Initramfs.modules(plan(bad))).as(bad).isInstanceOf(PlanException.class)
                    .hasMessageContaining("initramfs");
        }
    }
}
