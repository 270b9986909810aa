/**
 * Customizations applied to an installed tree: users, groups, keys, host name, time zone, services, kernel options.
 */
package dev.kiln.image.customize;
