/**
 * The engine's wiring: the state directory's database, the generated admin login, {@code /engine-rest}
 * authentication, the Cockpit plugin.
 */
package dev.kiln.engine;
