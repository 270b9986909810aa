package dev.kiln.image.format;

import dev.kiln.image.sandbox.FreeCores;
import dev.kiln.image.tree.Tree;
import dev.kiln.image.tree.Kernels;
import dev.kiln.image.tree.Hygiene;
import dev.kiln.store.FileTrees;
import dev.kiln.image.TreeImageBuilder;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code live-iso}: {@code live.iso}, an ISO 9660 hybrid image (El Torito for BIOS and UEFI, and an MBR so that it
 * boots from a USB stick too) that runs the tree from a squashfs with live-boot, made by {@code mksquashfs} and
 * {@code grub-mkrescue} (which drives xorriso). The initramfs is the tree's own, made with live-boot installed (the
 * type's template lists it), and the kernel command line is the template's ({@code boot=live}).
 */
@Component
class LiveIsoBuilder extends TreeImageBuilder {

    static final String VOLUME_ID = "Kiln-live";
    private final int level;

    LiveIsoBuilder(RootTree rootTree, @Value("${kiln.image.squashfs-zstd-level:6}") int level) {
        super(rootTree);
        if (level < 1 || level > 22) {
            throw new IllegalArgumentException("kiln.image.squashfs-zstd-level must be 1..22");
        }
        this.level = level;
    }

    @Override
    public OutputType type() {
        return OutputType.LIVE_ISO;
    }

    @Override
    protected Path image(BuildRequest request, Tree tree) throws Exception {
        Path dir = tree.dir();
        String kernel = Kernels.bootKernel(dir, "a live image");
        if (!Files.isDirectory(dir.resolve("usr/lib/live/boot")) && !Files.isDirectory(dir.resolve("lib/live/boot"))) {
            throw new IOException("a live image needs live-boot in its package set (the live-iso template lists it)");
        }
        Files.writeString(dir.resolve("etc/fstab"), "# live system: the root is the squashfs, mounted by live-boot\n");
        Hygiene.clampWritten(dir, tree.sourceDateEpoch(), dir.resolve("etc/fstab"));

        Path iso = request.scratch().resolve("iso");
        FileTrees.delete(iso);
        Files.createDirectories(iso.resolve("live"));
        Files.createDirectories(iso.resolve("boot/grub"));
        Files.copy(dir.resolve("boot/vmlinuz-" + kernel), iso.resolve("live/vmlinuz"));
        Files.copy(dir.resolve("boot/initrd.img-" + kernel), iso.resolve("live/initrd.img"));
        Files.writeString(iso.resolve("boot/grub/grub.cfg"), DiskImage.grubConfig("Debian GNU/Linux live",
                "/live/vmlinuz", "/live/initrd.img", DiskImage.cmdline(dir)));
        String sde = String.valueOf(tree.sourceDateEpoch());
        Map<String, String> env = Map.of("SOURCE_DATE_EPOCH", sde, "MTOOLS_SKIP_CHECK", "1");
        try {
            long t0 = System.nanoTime();
            request.tools().progress().phase("squashfs");
            tree.own(dir); // mksquashfs runs in the sandbox and copies the owners it sees there
            int cores = FreeCores.now();
            tree.sandbox().runToolInto(request.tools(), request.results().uuid(),
                    iso.resolve("live/filesystem.squashfs"), out -> List.of("mksquashfs", dir.toString(),
                    out.toString(), "-noappend", "-no-progress", "-quiet", "-comp", "zstd", "-Xcompression-level",
                    String.valueOf(level), "-e", "boot",
                    "-processors", String.valueOf(cores)), env);
            request.tools().note(String.format("squashfs: %d bytes in %d ms",
                    Files.size(iso.resolve("live/filesystem.squashfs")), (System.nanoTime() - t0) / 1_000_000));
            Path image = request.scratch().resolve(type().imageName());
            request.tools().progress().phase("iso");
            // grub-mkrescue stamps the volume with the current time (--modification-date): xorriso's own commands
            // after "--" set every date, the volume's UUID and the GPT's GUIDs from the tree's time instead
            String when = "=" + sde;
            request.tools().run(request.scratch(), List.of("grub-mkrescue",
                    "-o", image.toString(), iso.toString(), "--", "-volid", VOLUME_ID,
                    "-volume_date", "uuid", FormatStamps.isoVolumeUuid(tree.sourceDateEpoch()),
                    "-volume_date", "c", when, "-volume_date", "m", when, "-volume_date", "all_file_dates", when,
                    "-boot_image", "any", "gpt_disk_guid=volume_date_uuid"), env, null);
            // and the EFI image it made with mformat has a random serial
            FormatStamps.isoEfiSerial(image, request.tools().run(request.scratch(), List.of("xorriso", "-indev",
                    image.toString(), "-report_el_torito", "plain")),
                    (int) DiskImage.derive(tree.seed(), "live-efi").getMostSignificantBits());
            return image;
        } finally {
            FileTrees.delete(iso);
        }
    }
}
