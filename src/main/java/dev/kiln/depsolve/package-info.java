/**
 * Depsolving: the package index of all sources, the solver, a blueprint's package set, the frozen set's file
 * ({@code deps.toml}).
 */
package dev.kiln.depsolve;
