/**
 * One small class per output type: tar, ext4, the disk types (raw, ami, qcow2, vmdk, vhd, google) and the live ISO.
 */
package dev.kiln.image.format;
