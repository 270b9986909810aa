/**
 * Debian's package vocabulary: versions and their order, relations (Depends, Conflicts, Provides), the stanzas of a
 * Packages file.
 */
package dev.kiln.debian;
