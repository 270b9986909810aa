package dev.kiln.image.format;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** qemu-img's VMDK and VHD of one raw disk, made twice: identical once their stamps are set, and still valid. */
class FormatStampsTest {

    @TempDir
    Path dir;

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    private Path raw() throws Exception {
        Path raw = dir.resolve("disk.raw");
        try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
            f.setLength(8 << 20);
            f.seek(1 << 20);
            f.write("some data that is not zero".getBytes(StandardCharsets.US_ASCII));
        }
        return raw;
    }

    /** As a build makes it: the same file name each time (a VMDK's descriptor names its file), in its own room. */
    private Path convert(Path raw, String format, String options, String room) throws Exception {
        Path out = Files.createDirectories(dir.resolve(room)).resolve("disk." + format);
        run(List.of("qemu-img", "convert", "-f", "raw", "-O", format, "-o", options, raw.toString(), out.toString()));
        return out;
    }

    @Test
    void twoVmdksOfOneDiskAreIdenticalWithTheDerivedCid() throws Exception {
        Path raw = raw();
        Path a = convert(raw, "vmdk", "subformat=streamOptimized,adapter_type=lsilogic", "a");
        Thread.sleep(5);
        Path b = convert(raw, "vmdk", "subformat=streamOptimized,adapter_type=lsilogic", "b");
        int cid = FormatStamps.cidOf(UUID.fromString("6f1c2a4e-93b7-4d2a-8c55-0e1f2a3b4c5d"));
        FormatStamps.vmdkCid(a, cid);
        FormatStamps.vmdkCid(b, cid);
        assertThat(Files.mismatch(a, b)).as("the first byte that differs").isEqualTo(-1);
        assertThat(new String(Files.readAllBytes(a), StandardCharsets.ISO_8859_1)).contains("\nCID=" + String.format("%08x", cid) + "\n");
        run(List.of("qemu-img", "check", "-f", "vmdk", a.toString()));
        assertThat(run(List.of("qemu-img", "compare", "-f", "raw", "-F", "vmdk", raw.toString(), a.toString())))
                .contains("identical");
        // qemu-img prints a CID below 0x10000000 with fewer digits: such a descriptor gets the same eight
        Path shortCid = Files.copy(b, dir.resolve("short.vmdk"));
        byte[] all = Files.readAllBytes(shortCid);
        String text = new String(all, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\nCID=") + 5;
        byte[] shorter = (text.substring(0, at) + "1a2b3" + text.substring(at + 8, text.indexOf('\0', at)))
                .getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(shorter, 0, all, 0, shorter.length);
        all[shorter.length] = 0;
        all[shorter.length + 1] = 0;
        all[shorter.length + 2] = 0;
        Files.write(shortCid, all);
        assertThat(Files.mismatch(shortCid, a)).isNotEqualTo(-1);
        FormatStamps.vmdkCid(shortCid, cid);
        assertThat(Files.mismatch(shortCid, a)).as("the short CID replaced").isEqualTo(-1);
        Path notVmdk = dir.resolve("x.vmdk");
        Files.write(notVmdk, new byte[4096]);
        assertThatThrownBy(() -> FormatStamps.vmdkCid(notVmdk, cid)).hasMessageContaining("not a sparse VMDK");
    }

    @Test
    void twoVhdsOfOneDiskAreIdenticalWithTheSourceTimeAndDerivedId() throws Exception {
        Path raw = raw();
        Path a = convert(raw, "vpc", "subformat=fixed,force_size=on", "a");
        Thread.sleep(1100); // another second in the footer's time stamp
        Path b = convert(raw, "vpc", "subformat=fixed,force_size=on", "b");
        assertThat(Files.mismatch(a, b)).as("qemu-img's stamps differ").isNotEqualTo(-1);
        UUID id = UUID.fromString("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
        long sde = 1_700_000_000L;
        FormatStamps.vhdFooter(a, sde, id);
        FormatStamps.vhdFooter(b, sde, id);
        assertThat(Files.mismatch(a, b)).as("the first byte that differs").isEqualTo(-1);
        byte[] all = Files.readAllBytes(a);
        byte[] footer = Arrays.copyOfRange(all, all.length - 512, all.length);
        ByteBuffer f = ByteBuffer.wrap(footer);
        assertThat(Integer.toUnsignedLong(f.getInt(24))).isEqualTo(sde - FormatStamps.VHD_EPOCH);
        assertThat(new UUID(f.getLong(68), f.getLong(76))).isEqualTo(id);
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 64 && i < 68 ? 0 : footer[i] & 0xff;
        }
        assertThat(f.getInt(64)).as("the footer's checksum").isEqualTo(~sum);
        assertThat(run(List.of("qemu-img", "info", "-f", "vpc", a.toString()))).contains("virtual size: 8 MiB");
        assertThat(run(List.of("qemu-img", "compare", "-f", "raw", "-F", "vpc", raw.toString(), a.toString())))
                .contains("identical");
    }
}
