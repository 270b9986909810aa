/**
 * Root trees: unpacking the Essential set, dpkg in the sandbox, the tree and base caches, the initramfs, cleaning
 * and clamping times.
 */
package dev.kiln.image.tree;
