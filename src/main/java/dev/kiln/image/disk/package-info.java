/**
 * The raw disk: partitions (GPT, BIOS boot, EFI system), the ext4 root made by {@code mke2fs -d}, GRUB for BIOS and
 * UEFI; no loop device.
 */
package dev.kiln.image.disk;
