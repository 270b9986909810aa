package dev.kiln.image.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class Ext4FileSystemTest {

    /** Four groups of 8 inodes: reserved 1-10, used 11-13 and 20, free ranges and single inodes in between. */
    static final String DUMPE2FS = """
            Inode count:              32
            Free inodes:              12
            Group descriptor size:    64
            Inodes per group:         8
            First inode:              11
            Group 0: (Blocks 0-32767) csum 0x56da
              Free inodes:\s
            Group 1: (Blocks 32768-65535) csum 0x06d9
              Free inodes: 14-15
            Group 2: (Blocks 65536-98303) csum 0x74ca [INODE_UNINIT]
              Free inodes: 17-19, 21, 23-24
            Group 3: (Blocks 98304-131071) csum 0x4020 [INODE_UNINIT, BLOCK_UNINIT]
              Free inodes: 25-32
            """;

    @Test
    void inodesInUseAreTheRootAndEveryUsedOneFromTheFirst() throws IOException {
        assertThat(Ext4FileSystem.inodesInUse(DUMPE2FS)).containsExactly(2L, 11L, 12L, 13L, 16L, 20L, 22L);
    }

    @Test
    void aListingWithoutGeometryIsRefused() {
        assertThatThrownBy(() -> Ext4FileSystem.inodesInUse("Group 0: (Blocks 0-1)\n  Free inodes: 12-16\n"))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> Ext4FileSystem.inodesInUse("dumpe2fs 1.47.0\n")).isInstanceOf(IOException.class);
    }
}
