/**
 * The output types: the seed's eleven as data, with the file each leaves in {@code results/<UUID>/} and its MIME
 * type.
 */
package dev.kiln.output;
