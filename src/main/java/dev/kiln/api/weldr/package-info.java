/**
 * The Weldr API v1: one controller per resource group (blueprints, compose, projects, modules, sources, distros,
 * status) and the error envelope.
 */
package dev.kiln.api.weldr;
