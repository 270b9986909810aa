/**
 * Boot tests: an image booted in QEMU (UEFI or BIOS) until its HTTP service answers.
 */
package dev.kiln.boot;
