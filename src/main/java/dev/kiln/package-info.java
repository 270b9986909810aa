/**
 * The service's entry point ({@code Main}: the CLI or the service), its Spring application and its settings ({@code
 * KilnProperties}).
 */
package dev.kiln;
