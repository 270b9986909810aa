/**
 * Blueprints: the model, TOML and JSON parsing and writing, the customization grammar, password hashing, the git
 * store and diffs.
 */
package dev.kiln.blueprint;
