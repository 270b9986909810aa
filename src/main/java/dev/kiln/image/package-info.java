/**
 * Image builders: one per output type ({@code image.format}), the contract they implement and the registry of those
 * enabled.
 */
package dev.kiln.image;
