package dev.kiln.boot;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.output.OutputType;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Boots an image in QEMU (KVM when it works, TCG otherwise) under SeaBIOS or OVMF, with user networking that
 * cannot reach out and the guest's port 80 forwarded to a loopback port, and waits for a sign of life: an HTTP 200
 * from the guest when it runs a web server, else a login prompt on the serial console. Bounded by a timeout;
 * QEMU is always stopped.
 */
public final class BootTester {

    public enum Firmware { BIOS, UEFI }

    static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd");
    static final Path OVMF_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.fd");

    /** What a boot showed: passed or not, seconds from QEMU's start to the sign, and how it was seen. */
    public record Result(boolean passed, double seconds, String detail) {
    }

    private BootTester() {
    }

    /** The types QEMU can boot, and the form it reads each one in (a drive format, or {@code cdrom}). */
    public static Optional<String> qemuFormat(OutputType type) {
        return Optional.ofNullable(switch (type) {
            case PARTITIONED_DISK, AMI, GOOGLE -> "raw";
            case QCOW2, OPENSTACK, ALIBABA -> "qcow2";
            case VMDK -> "vmdk";
            case VHD -> "vpc";
            case LIVE_ISO -> "cdrom";
            case TAR, EXT4_FILESYSTEM -> null;
        });
    }

    /** KVM when {@code /dev/kvm} is there and the CPU has virtualization; TCG otherwise. */
    public static boolean kvmUsable() {
        try {
            String cpu = Files.readString(Path.of("/proc/cpuinfo"));
            return Files.isWritable(Path.of("/dev/kvm")) && (cpu.contains(" vmx") || cpu.contains(" svm"));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Boots {@code image} of {@code type}; the serial console goes to {@code serialLog}. A google image is unpacked
     * first ({@code disk.raw} from its tar.gz) into {@code work}.
     */
    public static Result boot(Path image, OutputType type, Firmware firmware, boolean expectHttp, Duration timeout,
            Path work, Path serialLog, ToolRunner tools) throws IOException, InterruptedException {
        String format = qemuFormat(type).orElseThrow(() -> new IOException(type.id() + " is not a bootable image"));
        Files.createDirectories(work);
        Path disk = image;
        Path unpacked = null;
        if (type == OutputType.GOOGLE) {
            unpacked = work.resolve("google-disk.raw");
            unpackGoogle(image, unpacked);
            disk = unpacked;
        }
        Path vars = work.resolve("OVMF_VARS.fd");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        boolean kvm = kvmUsable();
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "q35",
                "-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-m", "1536", "-smp", "2"));
        if (firmware == Firmware.UEFI) {
            Files.copy(OVMF_VARS, vars, StandardCopyOption.REPLACE_EXISTING);
            cmd.addAll(List.of("-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,file=" + vars));
        }
        if (format.equals("cdrom")) {
            cmd.addAll(List.of("-drive", "file=" + disk + ",media=cdrom,readonly=on"));
        } else {
            cmd.addAll(List.of("-drive", "file=" + disk + ",format=" + format + ",if=virtio,snapshot=on"));
        }
        cmd.addAll(List.of("-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:" + port + "-:80",
                "-device", "virtio-net-pci,netdev=n0", "-display", "none", "-vga", "none", "-monitor", "none",
                "-serial", "file:" + serialLog));
        Files.deleteIfExists(serialLog);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(3)).build();
        long t0 = System.nanoTime();
        Process qemu = tools.start(work, cmd, work.resolve("qemu.out"));
        String how = (kvm ? "KVM" : "TCG") + ", " + firmware.name();
        try {
            long deadline = t0 + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (!qemu.isAlive()) {
                    if (tools.killed()) {
                        throw new InterruptedException("the compose was cancelled");
                    }
                    return new Result(false, seconds(t0), "QEMU exited with code " + qemu.exitValue() + " (" + how
                            + "): " + tail(work.resolve("qemu.out")));
                }
                if (expectHttp) {
                    try {
                        int code = http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode();
                        if (code == 200) {
                            return new Result(true, seconds(t0), "HTTP 200 from the guest's port 80 (" + how + ")");
                        }
                    } catch (IOException notYet) {
                        // the guest is not listening yet
                    }
                } else if (Files.exists(serialLog) && Files.readString(serialLog, StandardCharsets.ISO_8859_1)
                        .contains(" login: ")) {
                    return new Result(true, seconds(t0), "login prompt on the serial console (" + how + ")");
                }
                Thread.sleep(500);
            }
            return new Result(false, seconds(t0), "no " + (expectHttp ? "HTTP 200" : "login prompt") + " within "
                    + timeout.toSeconds() + " s (" + how + ")");
        } finally {
            tools.stop(qemu);
            Files.deleteIfExists(vars);
            Files.deleteIfExists(work.resolve("qemu.out"));
            if (unpacked != null) {
                Files.deleteIfExists(unpacked);
            }
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String tail(Path p) throws IOException {
        String s = Files.exists(p) ? Files.readString(p, StandardCharsets.ISO_8859_1).strip() : "";
        return s.length() <= 500 ? s : s.substring(s.length() - 500);
    }

    /** {@code disk.raw} out of a google image, the way Compute Engine reads it. */
    static void unpackGoogle(Path image, Path raw) throws IOException {
        try (InputStream in = new GzipCompressorInputStream(new BufferedInputStream(Files.newInputStream(image)), true);
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e = tar.getNextEntry();
            if (e == null || !e.getName().equals("disk.raw")) {
                throw new IOException("a google image holds disk.raw first; this one holds " + (e == null ? "nothing" : e.getName()));
            }
            Files.copy(tar, raw, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
