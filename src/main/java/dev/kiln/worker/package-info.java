/**
 * {@code kiln worker}: a build worker on another machine. It fetches and locks the heavy steps' external tasks over
 * a node's {@code /engine-rest} (the Camunda 7 external-task client: long polling, FIFO by priority, the lock
 * extended as a heartbeat), takes what a step reads from the node, runs the same step code as a node with caches of
 * its own, and sends the image back with its SHA-256.
 */
package dev.kiln.worker;
