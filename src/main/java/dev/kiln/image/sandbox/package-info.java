/**
 * Where code from packages runs: the build sandbox (user and other namespaces, bubblewrap), the chroot over it, and
 * the tool runner that starts every process.
 */
package dev.kiln.image.sandbox;
