package dev.kiln.image.tree;

import dev.kiln.image.sandbox.Sandbox;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * An installed, customized tree; {@code sourceDateEpoch} and {@code seed} make the image reproducible;
 * {@code rootSize} is the size the plan asks for the root file system ({@code part /}, from the blueprint's
 * filesystem customization), 0 when it does not; {@code mounts} the other mount points the plan gives partitions
 * ({@code part /var --size=N}), each with its least size in bytes; {@code logical} the mount points (the root among
 * them) on LVM logical volumes ({@code logvol}), empty for a disk of plain partitions; {@code sandbox} is the one
 * whose ids its files carry.
 */
public record Tree(Path dir, long sourceDateEpoch, UUID seed, long rootSize, Map<String, Long> mounts,
        Set<String> logical, Sandbox sandbox) {
}
