package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.image.sandbox.ToolRunner;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build's tree as an overlay on the tree cache: what the build changes never reaches the cached tree, hard links
 * stay links, the cached tree is not evicted while a build stands on it, and nothing stays mounted.
 */
class TreeLayerTest {

    @TempDir
    Path dir;

    @AfterEach
    void nothingStaysMounted() throws Exception {
        TreeLayer.unmountUnder(dir.toString());
        assertThat(TreeLayer.mountPoints(dir.toString())).isEmpty();
    }

    Path installed(Path tree) throws Exception {
        Files.createDirectories(tree.resolve("etc/d"));
        Files.writeString(tree.resolve("etc/a"), "as installed\n");
        Files.writeString(tree.resolve("etc/d/f"), "deleted by the build\n");
        Files.writeString(tree.resolve("etc/h1"), "one inode, two names\n");
        Files.createLink(tree.resolve("etc/h2"), tree.resolve("etc/h1"));
        Files.setLastModifiedTime(tree.resolve("etc/h1"), FileTime.fromMillis(1_700_000_000_000L));
        Files.setPosixFilePermissions(tree, PosixFilePermissions.fromString("rwxr-x---"));
        Files.setAttribute(tree, "unix:uid", 1234);
        return tree;
    }

    @Test
    void theBuildChangesItsOverlayAndNeverTheCachedTree() throws Exception {
        ToolRunner tools = new ToolRunner((level, line) -> { });
        Path tree = installed(dir.resolve("build/tree"));
        assertThat(TreeLayer.usable(dir.resolve("cache"), tree)).as("overlayfs is mounted here (root)").isTrue();
        TreeCache cache = new TreeCache(dir.resolve("cache"), 1, 1L << 30);
        Path kept = cache.adopt("a", tree, 42, new Hygiene.Settled(TreeCache.bytes(tree), Tree.usage(tree)));
        assertThat(kept).isEqualTo(dir.resolve("cache/a/tree"));
        assertThat(tree).as("moved, not copied").doesNotExist();
        TreeLayer.mount(kept, tree, tools);
        assertThat(TreeLayer.mountPoints(dir.toString())).containsExactly(tree.toString());
        assertThat(TreeCache.sde(kept)).isEqualTo(42);

        // the merged root is the installed tree's
        assertThat(Files.getAttribute(tree, "unix:uid")).isEqualTo(1234);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tree))).isEqualTo("rwxr-x---");
        Object inode = Files.getAttribute(tree.resolve("etc/h1"), "unix:ino");
        Files.writeString(tree.resolve("etc/a"), "customized\n");
        Files.delete(tree.resolve("etc/d/f"));
        Files.writeString(tree.resolve("etc/new"), "made by the build\n");
        Files.setLastModifiedTime(tree.resolve("etc/h1"), FileTime.fromMillis(1_600_000_000_000L));
        Files.move(tree.resolve("etc/d"), tree.resolve("etc/moved")); // a directory renamed (redirect_dir)
        assertThat(tree.resolve("etc/a")).hasContent("customized");
        assertThat(tree.resolve("etc/moved")).isEmptyDirectory();
        assertThat(Files.getLastModifiedTime(tree.resolve("etc/h2")).toMillis()).as("still one inode")
                .isEqualTo(1_600_000_000_000L);
        assertThat(Files.getAttribute(tree.resolve("etc/h2"), "unix:ino")).isEqualTo(inode);
        assertThat(Files.getAttribute(tree.resolve("etc/h1"), "unix:nlink")).isEqualTo(2);

        // its usage without a walk: as a walk of the merged tree counts it
        assertThat(TreeLayer.usage(tree)).isEqualTo(Tree.usage(tree));

        // what the build wrote over the cached tree, and only that (the clamp and the owners go through it); the
        // deleted file is no path of the tree
        assertThat(TreeLayer.changed(tree)).containsExactlyInAnyOrder(tree, tree.resolve("etc"),
                tree.resolve("etc/a"), tree.resolve("etc/new"), tree.resolve("etc/h1"), tree.resolve("etc/moved"));
        assertThat(TreeLayer.changed(kept)).as("no overlay").isNull();

        // the cached tree: as installed
        assertThat(kept.resolve("etc/a")).hasContent("as installed");
        assertThat(kept.resolve("etc/d/f")).exists();
        assertThat(kept.resolve("etc/new")).doesNotExist();
        assertThat(kept.resolve("etc/moved")).doesNotExist();
        assertThat(Files.getLastModifiedTime(kept.resolve("etc/h1")).toMillis()).isEqualTo(1_700_000_000_000L);

        // a newer set would evict it (one kept): not while the build stands on it
        Thread.sleep(20);
        cache.remember("b", installed(dir.resolve("other")), 7, tools);
        assertThat(kept).exists();
        TreePlaces.release(tree);
        assertThat(TreeLayer.mountPoints(dir.toString())).isEmpty();
        assertThat(dir.resolve("build/upper")).doesNotExist();
        assertThat(dir.resolve("build/work")).doesNotExist();
        assertThat(tree).doesNotExist();
        cache.evict();
        try (Stream<Path> left = Files.list(dir.resolve("cache"))) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("b");
        }
    }

    @Test
    void aBuildOfACachedSetStandsOnItAndAKilledServicesOverlaysAreUnmounted() throws Exception {
        ToolRunner tools = new ToolRunner((level, line) -> { });
        TreeCache cache = new TreeCache(dir.resolve("cache"), 2, 1L << 30);
        cache.remember("s", installed(dir.resolve("src")), 9, tools);
        for (String b : new String[] {"one", "two"}) {
            Path tree = dir.resolve("run/" + b + "/tree");
            Files.createDirectories(tree.getParent());
            Path kept = cache.hold("s", tree);
            TreeLayer.mount(kept, tree, tools);
            Files.writeString(tree.resolve("etc/hostname"), b + "\n");
        }
        assertThat(dir.resolve("run/one/tree/etc/hostname")).hasContent("one");
        assertThat(dir.resolve("run/two/tree/etc/hostname")).hasContent("two");
        assertThat(dir.resolve("cache/s/tree/etc/hostname")).doesNotExist();
        assertThat(cache.hold("missing", dir.resolve("run/three/tree"))).isNull();
        // as a starting service does with what a killed one left
        TreeLayer.unmountUnder(dir.resolve("run") + "/");
        assertThat(TreeLayer.mountPoints(dir.toString())).isEmpty();
        assertThat(dir.resolve("run/one/tree")).isEmptyDirectory();
        assertThat(Files.isDirectory(dir.resolve("cache/s/tree/etc"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }

    @Test
    void theUsageOfAnOverlayIsAWalksWhateverTheBuildDeletesOrMakesAnew() throws Exception {
        ToolRunner tools = new ToolRunner((level, line) -> { });
        Path tree = installed(dir.resolve("build/tree"));
        Files.createDirectories(tree.resolve("var/tmp/deep/er"));
        Files.write(tree.resolve("var/tmp/deep/er/big"), new byte[50_000]);
        Files.createDirectories(tree.resolve("usr/share/doc/p"));
        Files.write(tree.resolve("usr/share/doc/p/copyright"), new byte[9_000]);
        Files.createDirectories(tree.resolve("opt/renamed/inner"));
        Files.write(tree.resolve("opt/renamed/inner/f"), new byte[3]);
        TreeCache cache = new TreeCache(dir.resolve("cache"), 1, 1L << 30);
        Path kept = cache.adopt("u", tree, 42, new Hygiene.Settled(TreeCache.bytes(tree), Tree.usage(tree)));
        TreeLayer.mount(kept, tree, tools);
        assertThat(TreeLayer.usage(tree)).as("nothing written").isEqualTo(Tree.usage(tree));

        assertThat(tree.resolve("var/tmp/deep")).isDirectory();
        dev.kiln.store.FileTrees.delete(tree.resolve("var/tmp/deep")); // a directory with entries, deleted
        dev.kiln.store.FileTrees.delete(tree.resolve("usr/share/doc")); // deleted, then made anew (opaque)
        Files.createDirectories(tree.resolve("usr/share/doc/q"));
        Files.write(tree.resolve("usr/share/doc/q/copyright"), new byte[5_000]);
        Files.write(tree.resolve("etc/a"), new byte[70_000]); // grown
        Files.setAttribute(tree.resolve("etc/h1"), "unix:uid", 7); // metadata only
        Files.move(tree.resolve("etc/d/f"), tree.resolve("etc/f-moved")); // a file renamed
        assertThat(TreeLayer.usage(tree)).isEqualTo(Tree.usage(tree));

        Files.write(tree.resolve("etc/h2"), new byte[20_000]); // a file with another name: that name not written
        assertThat(TreeLayer.usage(tree)).as("not known without a walk").isNull();
        Files.write(tree.resolve("etc/h2"), "one inode, two names\n".getBytes());
        assertThat(TreeLayer.usage(tree)).isEqualTo(Tree.usage(tree));

        Files.move(tree.resolve("opt/renamed"), tree.resolve("opt/elsewhere")); // a directory renamed
        assertThat(TreeLayer.usage(tree)).as("not known without a walk").isNull();
        Tree t = new Tree(tree, 42, java.util.UUID.randomUUID(), null, null);
        assertThat(t.usage()).as("then walked").isEqualTo(Tree.usage(tree));
        TreePlaces.release(tree);
    }

    @Test
    void pathsMountCouldMisreadAreNotLayered() {
        assertThat(TreeLayer.usable(dir.resolve("cache,upperdir=/etc"), dir.resolve("t/tree"))).isFalse();
        assertThat(TreeLayer.usable(dir.resolve("cache"), dir.resolve("a:b/tree"))).isFalse();
        assertThat(TreeLayer.usable(dir.resolve("cache"), dir.resolve("line\nbreak/tree"))).isFalse();
    }
}
