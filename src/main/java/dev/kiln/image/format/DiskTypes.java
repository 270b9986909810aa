package dev.kiln.image.format;

import dev.kiln.image.TreeImageBuilder;
import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The disk types: one raw disk ({@link DiskImage}), wrapped the way each platform takes it. One class per type.
 */
final class DiskTypes {

    private DiskTypes() {
    }

    /** A disk type: the raw disk is made in the scratch directory, then {@link #wrap}ped into the type's file. */
    abstract static class DiskBuilder extends TreeImageBuilder {

        private final OutputType type;

        DiskBuilder(RootTree rootTree, OutputType type) {
            super(rootTree);
            this.type = type;
        }

        @Override
        public final OutputType type() {
            return type;
        }

        @Override
        protected final Path image(BuildRequest request, RootTree.Tree tree) throws Exception {
            Path raw = request.scratch().resolve("disk.raw.tmp");
            try {
                DiskImage.Disk disk = DiskImage.make(request.tools(), request.scratch(), request.results().uuid(),
                        request.sizeBytes(), tree, raw);
                Path image = request.scratch().resolve(type().imageName());
                long t0 = System.nanoTime();
                wrap(request, disk, image);
                request.tools().note(String.format("%s: %s written in %d ms", type().id(), image.getFileName(),
                        (System.nanoTime() - t0) / 1_000_000));
                return image;
            } finally {
                Files.deleteIfExists(raw);
            }
        }

        /** Turns the raw disk into the type's image file. */
        abstract void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception;

        static void rename(DiskImage.Disk disk, Path image) throws IOException {
            Files.move(disk.file(), image, StandardCopyOption.REPLACE_EXISTING);
        }

        static void qemuImg(BuildRequest request, DiskImage.Disk disk, Path image, String format, String options,
                boolean compress) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-f", "raw", "-O", format));
            if (!options.isEmpty()) {
                cmd.addAll(List.of("-o", options));
            }
            if (compress) {
                cmd.add("-c");
            }
            cmd.addAll(List.of(disk.file().toString(), image.toString()));
            request.tools().run(request.scratch(), cmd);
        }
    }

    /** {@code partitioned-disk}: the raw disk itself, {@code disk.img}. */
    @Component
    static class PartitionedDisk extends DiskBuilder {
        PartitionedDisk(RootTree rootTree) {
            super(rootTree, OutputType.PARTITIONED_DISK);
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws IOException {
            rename(disk, image);
        }
    }

    /** {@code ami}: the raw disk, {@code disk.ami}, as AWS's image import takes it. */
    @Component
    static class Ami extends DiskBuilder {
        Ami(RootTree rootTree) {
            super(rootTree, OutputType.AMI);
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws IOException {
            rename(disk, image);
        }
    }

    /** The qcow2 types: compat 1.1, compressed when {@code kiln.image.qcow2-compress} says so. */
    abstract static class Qcow2Based extends DiskBuilder {
        private final boolean compress;

        Qcow2Based(RootTree rootTree, OutputType type, boolean compress) {
            super(rootTree, type);
            this.compress = compress;
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
            qemuImg(request, disk, image, "qcow2", "compat=1.1", compress);
        }
    }

    /** {@code qcow2}: {@code disk.qcow2} for QEMU/KVM. */
    @Component
    static class Qcow2 extends Qcow2Based {
        Qcow2(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
            super(rootTree, OutputType.QCOW2, compress);
        }
    }

    /** {@code openstack}: {@code disk.qcow2} with cloud-init (from its template) for Glance. */
    @Component
    static class OpenStack extends Qcow2Based {
        OpenStack(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
            super(rootTree, OutputType.OPENSTACK, compress);
        }
    }

    /** {@code alibaba}: {@code disk.qcow2} with cloud-init (from its template), as Alibaba Cloud imports it. */
    @Component
    static class Alibaba extends Qcow2Based {
        Alibaba(RootTree rootTree, @Value("${kiln.image.qcow2-compress:false}") boolean compress) {
            super(rootTree, OutputType.ALIBABA, compress);
        }
    }

    /** {@code vmdk}: a streamOptimized {@code disk.vmdk} with an LSI Logic adapter, what vSphere imports. */
    @Component
    static class Vmdk extends DiskBuilder {
        Vmdk(RootTree rootTree) {
            super(rootTree, OutputType.VMDK);
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
            qemuImg(request, disk, image, "vmdk", "subformat=streamOptimized,adapter_type=lsilogic", false);
        }
    }

    /**
     * {@code vhd}: a fixed VHD, {@code disk.vhd}, whose virtual size is the raw disk's exactly (a whole number of
     * MiB, as Azure requires; {@code force_size} stops qemu-img rounding it to a CHS geometry).
     */
    @Component
    static class Vhd extends DiskBuilder {
        Vhd(RootTree rootTree) {
            super(rootTree, OutputType.VHD);
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
            if (disk.size() % DiskImage.MIB != 0) {
                throw new IOException("a VHD for Azure must be a whole number of MiB");
            }
            qemuImg(request, disk, image, "vpc", "subformat=fixed,force_size=on", false);
        }
    }

    /**
     * {@code google}: {@code disk.tar.gz}, a GNU-format tar holding one file named {@code disk.raw}, gzip-compressed,
     * as Compute Engine's image import requires. The tar is written with Commons Compress; pigz compresses it on
     * every core.
     */
    @Component
    static class Google extends DiskBuilder {
        private final int level;

        Google(RootTree rootTree, @Value("${kiln.image.gzip-level:6}") int level) {
            super(rootTree, OutputType.GOOGLE);
            if (level < 1 || level > 9) {
                throw new IllegalArgumentException("kiln.image.gzip-level must be 1..9");
            }
            this.level = level;
        }

        @Override
        void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
            Path tmp = request.scratch().resolve(image.getFileName() + ".tmp");
            request.tools().pipe(request.scratch(), List.of("pigz", "-n", "-" + level, "-p",
                    String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors()))), out -> {
                        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
                        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
                        tar.putArchiveEntry(gnuEntry(disk));
                        try (InputStream in = Files.newInputStream(disk.file())) {
                            in.transferTo(tar);
                        }
                        tar.closeArchiveEntry();
                        tar.finish();
                        tar.flush();
                    }, tmp);
            Files.move(tmp, image, StandardCopyOption.REPLACE_EXISTING);
        }

        /**
         * The entry for {@code disk.raw} with GNU tar's magic ({@code "ustar  \0"}): Commons Compress writes POSIX
         * magic by default and keeps the magic of a header it parsed, so the header is written, its magic changed
         * and read back.
         */
        static TarArchiveEntry gnuEntry(DiskImage.Disk disk) throws IOException {
            TarArchiveEntry entry = new TarArchiveEntry("disk.raw");
            entry.setSize(disk.size());
            entry.setMode(0100644);
            entry.setModTime(disk.sourceDateEpoch() * 1000);
            entry.setUserName("root");
            entry.setGroupName("root");
            byte[] header = new byte[512];
            entry.writeEntryHeader(header);
            byte[] gnuMagic = "ustar  \0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(gnuMagic, 0, header, 257, gnuMagic.length);
            return new TarArchiveEntry(header);
        }
    }
}
