package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.kickstart.DiskPlan;
import java.nio.file.Path;
import java.util.UUID;

/**
 * An installed, customized tree; {@code sourceDateEpoch} and {@code seed} make the image reproducible;
 * {@code disk} is the layout the plan asks for disks (the root's size, the other mount points, swap, LVM), empty when
 * it asks for none; {@code sandbox} is the one whose ids its files carry.
 */
public record Tree(Path dir, long sourceDateEpoch, UUID seed, DiskPlan disk, Sandbox sandbox) {
}
