/**
 * The state directory: results directories, atomic writes, recursive deletes, archives of results, and who may read
 * what.
 */
package dev.kiln.store;
