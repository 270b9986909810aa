package dev.kiln.image.format;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The stamps qemu-img puts in two formats that make two builds of one disk differ, replaced by values derived from
 * the compose's frozen content: VMDK's content id ({@code CID=} in its descriptor, random) and the VHD footer's
 * time stamp and unique id (the current time, random). Everything else qemu-img writes depends on the disk alone.
 */
final class FormatStamps {

    /** Seconds from the Unix epoch to the VHD epoch, 2000-01-01T00:00:00Z. */
    static final long VHD_EPOCH = 946_684_800L;
    private static final int SECTOR = 512;

    private FormatStamps() {
    }

    /**
     * Sets the CID of a VMDK (a sparse or streamOptimized file: {@code KDMV} header, embedded descriptor) to
     * {@code cid}, eight hex digits in the descriptor's own text (qemu-img writes one to eight), within its sectors.
     */
    static void vmdkCid(Path vmdk, int cid) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(vmdk.toFile(), "rw")) {
            byte[] header = new byte[SECTOR];
            f.readFully(header);
            ByteBuffer h = ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            if (h.getInt(0) != 0x564d444b) { // "KDMV"
                throw new IOException(vmdk.getFileName() + " is not a sparse VMDK");
            }
            long at = h.getLong(28) * SECTOR;
            long size = h.getLong(36) * SECTOR;
            if (at <= 0 || size <= 0 || size > 1 << 20 || at + size > f.length()) {
                throw new IOException(vmdk.getFileName() + " has no embedded descriptor");
            }
            byte[] text = new byte[(int) size];
            f.seek(at);
            f.readFully(text);
            String descriptor = new String(text, StandardCharsets.ISO_8859_1);
            int i = descriptor.indexOf("\nCID=");
            int end = i < 0 ? -1 : descriptor.indexOf('\n', i + 5);
            // qemu-img prints the CID without leading zeros: one to eight hex digits
            if (i < 0 || end < 0 || !descriptor.substring(i + 5, end).matches("[0-9a-f]{1,8}")) {
                throw new IOException(vmdk.getFileName() + ": no CID of hex digits in its descriptor");
            }
            int used = descriptor.indexOf('\0') < 0 ? descriptor.length() : descriptor.indexOf('\0');
            String changed = descriptor.substring(0, i + 5) + String.format("%08x", cid) + descriptor.substring(end, used);
            if (changed.length() > text.length) {
                throw new IOException(vmdk.getFileName() + ": the descriptor has no room for an eight-digit CID");
            }
            byte[] out = new byte[text.length]; // the rest of the descriptor's sectors stays zeros
            byte[] bytes = changed.getBytes(StandardCharsets.ISO_8859_1);
            System.arraycopy(bytes, 0, out, 0, bytes.length);
            f.seek(at);
            f.write(out);
        }
    }

    /**
     * Sets a VHD footer's (the file's last 512 bytes; the first 512 of a dynamic VHD copy it) time stamp to
     * {@code epochSeconds} and its unique id to {@code id}, and its checksum again.
     */
    static void vhdFooter(Path vhd, long epochSeconds, UUID id) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(vhd.toFile(), "rw")) {
            long footerAt = f.length() - SECTOR;
            byte[] footer = new byte[SECTOR];
            f.seek(footerAt);
            f.readFully(footer);
            if (!new String(footer, 0, 8, StandardCharsets.US_ASCII).equals("conectix")) {
                throw new IOException(vhd.getFileName() + " has no VHD footer");
            }
            ByteBuffer b = ByteBuffer.wrap(footer); // big-endian, as the format is
            b.putInt(24, (int) Math.max(0, Math.min(0xffff_ffffL, epochSeconds - VHD_EPOCH)));
            b.putLong(68, id.getMostSignificantBits());
            b.putLong(76, id.getLeastSignificantBits());
            b.putInt(64, 0);
            int sum = 0;
            for (byte x : footer) {
                sum += x & 0xff;
            }
            b.putInt(64, ~sum);
            f.seek(footerAt);
            f.write(footer);
            byte[] first = new byte[8];
            f.seek(0);
            f.readFully(first);
            if (f.length() > 2 * SECTOR && new String(first, StandardCharsets.US_ASCII).equals("conectix")) {
                f.seek(0);
                f.write(footer); // a dynamic VHD's copy
            }
        }
    }

    /** xorriso's volume UUID for a time: {@code YYYYMMDDhhmmsscc} in UTC. */
    static String isoVolumeUuid(long epochSeconds) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(java.time.ZoneOffset.UTC)
                .format(java.time.Instant.ofEpochSecond(epochSeconds)) + "00";
    }

    /**
     * Sets the volume serial of the FAT image an ISO boots by UEFI (grub-mkrescue's {@code efi.img}, made by
     * mformat with a random one) to {@code serial}. {@code report} is {@code xorriso -report_el_torito plain} of the
     * ISO, which gives the image's block; the block must hold a FAT boot sector.
     */
    static void isoEfiSerial(Path iso, String report, int serial) throws IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(?m)^El Torito boot img : +\\d+ +UEFI .* (\\d+)\\s*$").matcher(report);
        if (!m.find()) {
            throw new IOException(iso.getFileName() + " has no UEFI boot image");
        }
        long at = Long.parseLong(m.group(1)) * 2048;
        try (RandomAccessFile f = new RandomAccessFile(iso.toFile(), "rw")) {
            byte[] boot = new byte[SECTOR];
            f.seek(at);
            f.readFully(boot);
            boolean fat = (boot[510] & 0xff) == 0x55 && (boot[511] & 0xff) == 0xaa && boot[38] == 0x29
                    && new String(boot, 54, 3, StandardCharsets.US_ASCII).equals("FAT");
            if (!fat) {
                throw new IOException(iso.getFileName() + ": its UEFI boot image is not a FAT12/16 file system");
            }
            f.seek(at + 39); // the BPB's volume serial, after the extended boot signature 0x29
            f.write(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(serial).array());
        }
    }

    /** Eight hex digits of a UUID, as a VMDK CID (never {@code ffffffff}, which means "no parent"). */
    static int cidOf(UUID id) {
        int cid = (int) id.getMostSignificantBits();
        return cid == -1 ? 0x4b494c4e : cid;
    }
}
