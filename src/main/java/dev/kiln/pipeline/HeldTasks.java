package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.regex.Pattern;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.springframework.stereotype.Component;

/**
 * What a remote worker may touch on a node: the compose of an external task it holds, and only while it holds it
 * (the task exists, is locked by that worker id, and the lock has not expired). A worker whose lock expired or whose
 * compose was cancelled is refused, so a step done twice cannot leave a second or a partial image.
 */
@Component
public class HeldTasks {

    /** Engine ids (UUIDs or numbers) and worker ids as {@code kiln worker} makes them; nothing else is looked up. */
    private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final Pattern WORKER_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");

    private final ExternalTaskService tasks;
    private final RuntimeService runtime;
    private final KilnProperties properties;

    /** A task a worker holds: its compose's results directory, its topic and the compose's type. */
    public record Held(String taskId, String workerId, String topic, ResultsDir results, OutputType type) {
    }

    HeldTasks(ExternalTaskService tasks, RuntimeService runtime, KilnProperties properties) {
        this.tasks = tasks;
        this.runtime = runtime;
        this.properties = properties;
    }

    public static boolean isTaskId(String id) {
        return id != null && TASK_ID.matcher(id).matches();
    }

    public static boolean isWorkerId(String id) {
        return id != null && WORKER_ID.matcher(id).matches();
    }

    /** The task, when {@code workerId} holds it now; empty otherwise (also for ids of the wrong form). */
    public Optional<Held> held(String taskId, String workerId) {
        if (!isTaskId(taskId) || !isWorkerId(workerId)) {
            return Optional.empty();
        }
        ExternalTask t = lockedBy(tasks, taskId, workerId);
        if (t == null || !ResultsDir.isUuid(t.getBusinessKey())) {
            return Optional.empty();
        }
        ResultsDir results = new ResultsDir(properties.resultsDir(), t.getBusinessKey());
        if (!results.exists()) {
            return Optional.empty();
        }
        Object type = runtime.getVariable(t.getExecutionId(), "type");
        return Optional.of(new Held(taskId, workerId, t.getTopicName(), results,
                OutputType.byId(String.valueOf(type)).orElse(OutputType.TAR)));
    }

    /** Whether {@code workerId} holds the task now: it exists, is locked by it, and the lock has not lapsed. */
    static boolean holds(ExternalTaskService tasks, String taskId, String workerId) {
        return lockedBy(tasks, taskId, workerId) != null;
    }

    private static ExternalTask lockedBy(ExternalTaskService tasks, String taskId, String workerId) {
        ExternalTask t = tasks.createExternalTaskQuery().externalTaskId(taskId).singleResult();
        Date until = t == null ? null : t.getLockExpirationTime();
        return t == null || !workerId.equals(t.getWorkerId()) || until == null
                || until.toInstant().isBefore(Instant.now()) ? null : t;
    }

    /** The build of a held task began: the compose is RUNNING since now (times.toml), as an in-process build says. */
    public void started(Held held) {
        held.results().status(ComposeService.RUNNING);
        held.results().time("started", Instant.now());
    }

    /** A held task's step failed for good: the reason in the log, STATUS FAILED; the worker reports the BPMN error. */
    public void failed(Held held, String message) {
        StepEnds.note(held.results(), "ERROR", message);
        StepEnds.quietly(() -> held.results().time("finished", Instant.now()));
        StepEnds.quietly(() -> held.results().status(ComposeService.FAILED));
    }
}
