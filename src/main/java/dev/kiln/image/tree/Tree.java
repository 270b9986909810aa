package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.kickstart.DiskPlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * An installed, customized tree; {@code sourceDateEpoch} and {@code seed} make the image reproducible;
 * {@code disk} is the layout the plan asks for disks (the root's size, the other mount points, swap, LVM), empty when
 * it asks for none; {@code sandbox} is the one whose ids its files carry.
 */
public record Tree(Path dir, long sourceDateEpoch, UUID seed, DiskPlan disk, Sandbox sandbox) {

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
