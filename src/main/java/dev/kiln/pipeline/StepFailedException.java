package dev.kiln.pipeline;

/** A business error: the compose cannot succeed (bad blueprint, unsatisfiable depsolve, failed test compose). */
public class StepFailedException extends Exception {

    public StepFailedException(String message) {
        super(message);
    }
}
