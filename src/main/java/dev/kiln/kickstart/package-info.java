/**
 * The build plan: kickstart templates per output type, {@code final-kickstart.ks} rendered from a blueprint and
 * read back, its command arguments.
 */
package dev.kiln.kickstart;
