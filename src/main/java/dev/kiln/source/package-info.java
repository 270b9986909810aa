/**
 * Package sources: the host's apt sources, user sources and their store, signed metadata fetched and verified.
 */
package dev.kiln.source;
