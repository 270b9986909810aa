package dev.kiln.pipeline;

import dev.kiln.store.ResultsDir;
import java.nio.file.Path;
import java.util.Date;
import java.util.Set;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A step of a topic no worker here serves (one a user added, for a worker of their own) that nobody has taken within
 * its timeout ends the compose FAILED, saying so, instead of waiting forever.
 */
final class UnservedSteps {

    private static final Logger log = LoggerFactory.getLogger(UnservedSteps.class);

    private final ExternalTaskService tasks;
    private final StepTimeouts timeouts;
    private final Path resultsDir;
    private final String watchdogId;
    private final long lockMs;

    UnservedSteps(ExternalTaskService tasks, StepTimeouts timeouts, Path resultsDir, String workerId, long lockMs) {
        this.tasks = tasks;
        this.timeouts = timeouts;
        this.resultsDir = resultsDir;
        this.watchdogId = workerId + "-watchdog";
        this.lockMs = lockMs;
    }

    /** Fails every compose waiting longer than its timeout at a step whose topic is not in {@code served}. */
    void failThoseNotIn(Set<String> served) {
        try {
            Date now = new Date();
            for (ExternalTask t : tasks.createExternalTaskQuery().processDefinitionKey(ComposeProcess.KEY).notLocked()
                    .list()) {
                if (served.contains(t.getTopicName()) || t.getCreateTime() == null
                        || now.getTime() - t.getCreateTime().getTime() < timeouts.of(t.getTopicName()).toMillis()) {
                    continue;
                }
                String message = timeouts.unserved(t.getTopicName());
                try {
                    tasks.lock(t.getId(), watchdogId, lockMs);
                    if (ResultsDir.isUuid(t.getBusinessKey())) {
                        ResultsDir results = new ResultsDir(resultsDir, t.getBusinessKey());
                        if (results.exists()) {
                            StepEnds.note(results, "ERROR", message);
                            StepEnds.quietly(() -> results.status("FAILED"));
                        }
                    }
                    tasks.handleBpmnError(t.getId(), watchdogId, ComposeProcess.ERROR_CODE, message);
                } catch (RuntimeException taken) {
                    log.debug("task {} was taken meanwhile: {}", t.getId(), taken.getMessage());
                }
            }
        } catch (RuntimeException e) {
            log.warn("checking for unserved steps failed: {}", e.toString());
        }
    }
}
