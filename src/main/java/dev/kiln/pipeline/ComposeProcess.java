package dev.kiln.pipeline;

import java.util.List;
import java.util.Set;

/** Names shared by {@code bpmn/compose.bpmn} and the code that drives it. */
public final class ComposeProcess {

    public static final String KEY = "compose";
    public static final String RESOURCE = "bpmn/compose.bpmn";
    /** The external-task topics, in pipeline order; one worker each. */
    public static final List<String> TOPICS = List.of("prepare", "depsolve", "freeze", "kickstart", "build", "boot-test", "finalize");
    /** Topics whose work is heavy (a whole CPU or more each): at most {@code kiln.compose.build-concurrency} at once. */
    public static final Set<String> HEAVY_TOPICS = Set.of("build", "boot-test");
    /** The process variables a step is given (all small: the rest lives in the results directory). */
    public static final String[] STEP_VARIABLES = {"type", "test", "size", "blueprint", "version", "branch", "bootTest"};
    /** The variable holding the type's name as the user gave it (an alias such as {@code server-qcow2}, or the id). */
    public static final String TYPE_NAME = "typeName";
    public static final String CANCEL_MESSAGE = "kiln.cancel";
    public static final String ERROR_CODE = "COMPOSE_FAILED";
    public static final String END_FINISHED = "finished";
    public static final String END_FAILED = "failed";
    public static final String END_CANCELLED = "cancelled";

    private ComposeProcess() {
    }
}
