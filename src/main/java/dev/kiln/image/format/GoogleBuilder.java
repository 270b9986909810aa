package dev.kiln.image.format;

import dev.kiln.image.disk.DiskImage;
import dev.kiln.image.sandbox.FreeCores;
import dev.kiln.image.tree.RootTree;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.io.InputStream;
import dev.kiln.store.Progress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code google}: {@code disk.tar.gz}, a GNU-format tar holding one file named {@code disk.raw}, gzip-compressed,
 * as Compute Engine's image import requires. The tar is written with Commons Compress; pigz compresses it on
 * every core.
 */
@Component
class GoogleBuilder extends DiskBuilder {
    private final int level;

    GoogleBuilder(RootTree rootTree, @Value("${kiln.image.gzip-level:6}") int level) {
        super(rootTree, OutputType.GOOGLE);
        if (level < 1 || level > 9) {
            throw new IllegalArgumentException("kiln.image.gzip-level must be 1..9");
        }
        this.level = level;
    }

    @Override
    void wrap(BuildRequest request, DiskImage.Disk disk, Path image) throws Exception {
        Path tmp = request.scratch().resolve(image.getFileName() + ".tmp");
        Progress progress = request.tools().progress();
        progress.phase("compress", 100, "%");
        request.tools().pipe(request.scratch(), List.of("pigz", "-n", "-" + level, "-p",
                String.valueOf(FreeCores.now())), out -> {
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
                    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
                    tar.putArchiveEntry(gnuEntry(disk));
                    try (InputStream in = Files.newInputStream(disk.file())) {
                        Percent.copy(in, tar, disk.size(), progress);
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
        byte[] gnuMagic = "ustar  \0".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(gnuMagic, 0, header, 257, gnuMagic.length);
        return new TarArchiveEntry(header);
    }
}
