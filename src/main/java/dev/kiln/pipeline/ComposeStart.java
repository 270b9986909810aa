package dev.kiln.pipeline;

import java.util.UUID;
import org.operaton.bpm.engine.delegate.DelegateExecution;
import org.operaton.bpm.engine.delegate.ExecutionListener;

/**
 * The process's start listener (in {@code compose.bpmn}): whoever starts a compose — the Weldr API,
 * {@code /engine-rest}, Tasklist, Cockpit — it gets a UUID business key if it has none (the compose's id, and
 * the name of its results directory) and a priority if it has none (older first, as Weldr's starts have it).
 * A key that is not a UUID is left alone: the {@code prepare} step refuses it.
 */
public class ComposeStart implements ExecutionListener {

    @Override
    public void notify(DelegateExecution execution) {
        String key = execution.getProcessBusinessKey();
        if (key == null || key.isBlank()) {
            execution.setProcessBusinessKey(UUID.randomUUID().toString());
        }
        if (!(execution.getVariable("priority") instanceof Number)) {
            execution.setVariable("priority", priority(System.currentTimeMillis()));
        }
    }

    /** A task priority that makes earlier composes go first. */
    static long priority(long startMillis) {
        return 10_000_000_000_000L - startMillis;
    }
}
