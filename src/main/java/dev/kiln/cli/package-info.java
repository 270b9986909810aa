/**
 * The {@code kiln} command line, composer-cli's commands and output, and its HTTP client over the unix socket or
 * TCP; independent of the server.
 */
package dev.kiln.cli;
