package dev.kiln.output;

import java.util.List;
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

    public static Optional<OutputType> byId(String id) {
        return List.of(values()).stream().filter(t -> t.id.equals(id)).findFirst();
    }

    public static List<String> ids() {
        return List.of(values()).stream().map(OutputType::id).toList();
    }
}
