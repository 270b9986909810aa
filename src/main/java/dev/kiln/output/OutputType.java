package dev.kiln.output;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The seed's output types, in the seed's order, with the image file each one leaves in {@code results/<UUID>/}
 * (spec §2.6) and the MIME type it is served with.
 */
public enum OutputType {
    ALIBABA("alibaba", "Alibaba Cloud", "disk.qcow2", "application/x-qemu-disk"),
    AMI("ami", "Amazon EC2", "disk.ami", "application/octet-stream"),
    EXT4_FILESYSTEM("ext4-filesystem", "ext4 filesystem", "filesystem.img", "application/octet-stream"),
    GOOGLE("google", "Google Cloud", "disk.tar.gz", "application/gzip"),
    LIVE_ISO("live-iso", "Bootable ISO", "live.iso", "application/x-iso9660-image"),
    OPENSTACK("openstack", "OpenStack image", "disk.qcow2", "application/x-qemu-disk"),
    PARTITIONED_DISK("partitioned-disk", "partitioned disk image", "disk.img", "application/octet-stream"),
    QCOW2("qcow2", "qcow2 image", "disk.qcow2", "application/x-qemu-disk"),
    TAR("tar", "tar archive", "root.tar.xz", "application/x-xz"),
    VHD("vhd", "virtual hard disk", "disk.vhd", "application/octet-stream"),
    VMDK("vmdk", "Virtual Machine disk", "disk.vmdk", "application/octet-stream");

    /**
     * osbuild-composer's names of the same images, accepted at {@code compose start} (scripts and clients written
     * for it, the Go client's own tests, start composes of {@code server-qcow2}); {@code compose types} lists only
     * the seed's names. Its {@code image-installer} (an Anaconda installer) has no match: Kiln's ISO is a live one.
     */
    public static final Map<String, OutputType> ALIASES = Map.of("server-qcow2", QCOW2, "server-ami", AMI,
            "server-vhd", VHD, "server-vmdk", VMDK, "server-openstack", OPENSTACK, "minimal-raw", PARTITIONED_DISK,
            "gce", GOOGLE);

    private final String id;
    private final String title;
    private final String imageName;
    private final String mimeType;

    OutputType(String id, String title, String imageName, String mimeType) {
        this.id = id;
        this.title = title;
        this.imageName = imageName;
        this.mimeType = mimeType;
    }

    public String id() {
        return id;
    }

    public String title() {
        return title;
    }

    public String imageName() {
        return imageName;
    }

    public String mimeType() {
        return mimeType;
    }

    /** Whether the type is a disk (a partition table with file systems), not a tree or an ISO. */
    public boolean disk() {
        return this != TAR && this != EXT4_FILESYSTEM && this != LIVE_ISO;
    }

    public static Optional<OutputType> byId(String id) {
        return List.of(values()).stream().filter(t -> t.id.equals(id)).findFirst();
    }

    /** The type a name means: one of the seed's ids or one of osbuild-composer's {@link #ALIASES}. */
    public static Optional<OutputType> byName(String name) {
        return byId(name).or(() -> Optional.ofNullable(name == null ? null : ALIASES.get(name)));
    }

    public static List<String> ids() {
        return List.of(values()).stream().map(OutputType::id).toList();
    }
}
