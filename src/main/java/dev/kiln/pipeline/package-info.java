/**
 * The compose pipeline on the engine: submit, status, cancel and delete; the workers and one step per external-task
 * topic.
 */
package dev.kiln.pipeline;
