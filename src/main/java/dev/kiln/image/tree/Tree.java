package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.kickstart.DiskPlan;
import dev.kiln.store.FileTrees;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;

/**
 * An installed, customized tree; {@code sourceDateEpoch} and {@code seed} make the image reproducible;
 * {@code disk} is the layout the plan asks for disks (the root's size, the other mount points, swap, LVM), empty when
 * it asks for none; {@code sandbox} is the one whose ids its files carry.
 */
public record Tree(Path dir, long sourceDateEpoch, UUID seed, DiskPlan disk, Sandbox sandbox) {

    /**
     * What the tree's files take, as the image's file systems are sized: each path a 4 KiB block, each regular file
     * its size rounded up to 4 KiB more; over the tree cache counted from the cached tree's count and what the build
     * wrote ({@link TreeLayer#usage}), else by a walk.
     */
    public long usage() throws IOException {
        Long layered = TreeLayer.usage(dir);
        return layered != null ? layered : usage(dir);
    }

    /** As {@link #usage()}, of any directory: a walk on every core. */
    public static long usage(Path dir) throws IOException {
        LongAdder total = new LongAdder();
        FileTrees.visit(dir, Hygiene.WALKERS, (p, a) -> total.add(blocks(a)));
        return total.sum();
    }

    /** One path's share of {@link #usage()}. */
    static long blocks(BasicFileAttributes a) {
        return (a.isRegularFile() ? (a.size() + 4095) / 4096 * 4096 : 0) + 4096;
    }

    /**
     * Gives what the service wrote into {@code source} (the tree, or a part of it) the ids the sandbox sees, for a
     * tool in the sandbox that copies owners: over the tree cache (an overlay) only what this build wrote, since the
     * cached tree got them when it was kept ({@link Hygiene#settle}); else every file.
     */
    public void own(Path source) throws IOException {
        List<Path> changed = source.equals(dir) ? TreeLayer.changed(dir) : null;
        if (changed != null) {
            sandbox.ownEach(changed);
        } else {
            sandbox.own(source);
        }
    }
}
