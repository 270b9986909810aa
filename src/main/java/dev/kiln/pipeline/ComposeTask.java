package dev.kiln.pipeline;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a step works on: the compose (from the process's few variables) and its results directory, the tool runner
 * that owns the step's child processes, and where a built image goes.
 *
 * @param test 0 for a real compose, 1 (ends FAILED) or 2 (ends FINISHED) for lorax's test mode
 * @param size the image size asked for, in bytes (0 = computed)
 * @param variables the process variables the step was given
 * @param output process variables the step sets when it completes
 * @param images takes a built image into the compose's {@code compose/} (as long as the step holds its task)
 */
public record ComposeTask(String uuid, OutputType type, int test, long size, ResultsDir results, ToolRunner tools,
        Map<String, Object> variables, Map<String, Object> output, Images images) {

    /**
     * Where a step's image goes once it is whole: on a node, renamed into {@code compose/<image>}; from a remote
     * worker, sent to a node with its SHA-256. Either way only while the step still holds its task, so that a step
     * done twice (a lock that expired) never leaves a second or a partial image.
     */
    public interface Images {
        void publish(Path built) throws IOException, InterruptedException;
    }

    public void log(String message) {
        results.log("INFO", message);
    }
}
