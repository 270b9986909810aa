package dev.kiln.pipeline;

import java.util.Map;
import dev.kiln.output.OutputType;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.ResultsDir;

/**
 * What a step works on: the compose (from the process's few variables) and its results directory, and the tool
 * runner that owns the step's child processes.
 *
 * @param test 0 for a real compose, 1 (ends FAILED) or 2 (ends FINISHED) for lorax's test mode
 * @param size the image size asked for, in bytes (0 = computed)
 * @param variables the process variables the step was given
 * @param output process variables the step sets when it completes
 */
public record ComposeTask(String uuid, OutputType type, int test, long size, ResultsDir results, ToolRunner tools,
        Map<String, Object> variables, Map<String, Object> output) {

    public void log(String message) {
        results.log("INFO", message);
    }
}
