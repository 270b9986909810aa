package dev.kiln.pipeline;

/**
 * One step of {@code compose.bpmn}: the worker of one external-task topic. A step must be idempotent (delivery is
 * at least once) and writes only into the compose's results directory, atomically.
 */
public interface ComposeStep {

    /** The external-task topic this step serves (also its task id in the BPMN). */
    String topic();

    /**
     * Does the step. A {@link StepFailedException} ends the compose FAILED at once (a business error); any other
     * exception is retried by the engine with backoff, then becomes an incident.
     */
    void execute(ComposeTask task) throws Exception;
}
