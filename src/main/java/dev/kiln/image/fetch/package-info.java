/**
 * The package cache ({@code .deb} files by SHA-256, fetched in parallel, checksum-checked) and the {@code .deb}
 * format.
 */
package dev.kiln.image.fetch;
