/**
 * The listeners: the Weldr API's unix socket, the API token and the guard of the TCP listener.
 */
package dev.kiln.api;
