package dev.kiln.image.tree;

import dev.kiln.debian.DebVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A tree's kernels: which are installed, which one boots, and the initramfs each gets. */
public final class Kernels {

    private Kernels() {
    }

    /** The kernel versions installed in a tree ({@code /boot/vmlinuz-VERSION}), oldest first. */
    public static List<String> kernels(Path tree) throws IOException {
        Path boot = tree.resolve("boot");
        if (!Files.isDirectory(boot, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(boot)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("vmlinuz-"))
                    .map(n -> n.substring("vmlinuz-".length())).sorted(DebVersion::compare).toList();
        }
    }

    /**
     * The newest kernel of a tree, which {@code what} (a disk, a live image) boots; an error naming the template
     * when there is none, or no initramfs for it.
     */
    public static String bootKernel(Path tree, String what) throws IOException {
        List<String> versions = kernels(tree);
        if (versions.isEmpty()) {
            throw new IOException(what + " boots a kernel, and the package set has none: the type's kickstart "
                    + "template must list linux-image-amd64 in %packages");
        }
        String kernel = versions.get(versions.size() - 1);
        if (!Files.isRegularFile(tree.resolve("boot/initrd.img-" + kernel))) {
            throw new IOException("no initramfs for kernel " + kernel + " in the tree");
        }
        return kernel;
    }
}
