package dev.kiln.pipeline;

import dev.kiln.image.sandbox.ToolRunner;

/**
 * A step in progress on this node. Its monitor keeps the heartbeat's lock extension and the worker's final call
 * (complete, error, failure) apart: the two would otherwise collide in the engine (optimistic locking).
 */
final class RunningStep {

    final String taskId;
    final String workerId;
    final ToolRunner tools;
    private boolean ending;
    /** Set by the step's watchdog when it ran past its timeout (its processes are then killed). */
    volatile boolean timedOut;

    RunningStep(String taskId, String workerId, ToolRunner tools) {
        this.taskId = taskId;
        this.workerId = workerId;
        this.tools = tools;
    }

    /** From now on the worker ends the task: the heartbeat leaves its lock alone. */
    synchronized void ending() {
        ending = true;
    }

    synchronized boolean isEnding() {
        return ending;
    }
}
