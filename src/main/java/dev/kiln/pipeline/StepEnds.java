package dev.kiln.pipeline;

import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolFailedException;
import dev.kiln.kickstart.PlanException;
import dev.kiln.store.ResultsDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.externaltask.LockedExternalTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a worker ends a step in the engine and in the compose's results: complete it, fail the compose at once (a
 * BPMN error: a business failure), or report a failure with bounded retries and backoff (an incident when they run
 * out). Writing to the results never fails a step: a full disk costs the line, not the compose.
 */
public final class StepEnds {

    private static final Logger log = LoggerFactory.getLogger(StepEnds.class);

    private final ExternalTaskService tasks;
    private final int maxRetries;
    private final long retryBackoffMs;

    StepEnds(ExternalTaskService tasks, int maxRetries, long retryBackoffMs) {
        this.tasks = tasks;
        this.maxRetries = maxRetries;
        this.retryBackoffMs = retryBackoffMs;
    }

    void complete(RunningStep me, LockedExternalTask task, Map<String, Object> output) {
        me.ending();
        engine(task.getBusinessKey(), () -> tasks.complete(task.getId(), me.workerId, output, Map.of()));
    }

    /** Ends the compose FAILED at once (a BPMN error), with {@code message} in its log and its process. */
    void fail(ResultsDir results, RunningStep me, LockedExternalTask task, String message) {
        note(results, "ERROR", message);
        quietly(() -> results.time("finished", Instant.now()));
        quietly(() -> results.status("FAILED"));
        me.ending();
        engine(task.getBusinessKey(), () -> tasks.handleBpmnError(task.getId(), me.workerId, ComposeProcess.ERROR_CODE,
                message));
    }

    /**
     * A failure that may pass (network, I/O): retried with doubling backoff; the last retry opens an incident whose
     * message (what Cockpit lists) names the compose: UUID, blueprint, type.
     */
    void retry(ResultsDir results, RunningStep me, LockedExternalTask task, String topic, Exception e) {
        String uuid = task.getBusinessKey();
        Retry r = Retry.of(task.getRetries(), maxRetries, retryBackoffMs, uuid, task.getVariables(), topic, e);
        log.warn("{} of compose {} failed ({} retries left)", topic, uuid, r.left, e);
        if (results.exists()) {
            note(results, "ERROR", topic + " failed: " + e + r.plan());
            if (r.left == 0) {
                quietly(() -> results.status("FAILED"));
            }
        }
        me.ending();
        engine(uuid, () -> tasks.handleFailure(task.getId(), me.workerId, r.incident, r.details, r.left, r.backoffMs));
    }

    /**
     * The next attempt of a step that failed for a passing reason: retries left (the first failure sees none set:
     * {@code max}), the backoff (doubling from {@code backoffMs}), and the incident's message (what Cockpit lists:
     * UUID, blueprint, type, step) and details (the stack trace) for the engine.
     */
    public record Retry(int left, long backoffMs, String incident, String details) {

        public static Retry of(Integer retries, int max, long backoffMs, String uuid, Map<String, Object> vars,
                String where, Exception e) {
            int now = retries == null ? max : retries;
            String incident = "compose " + uuid + " (" + vars.get("blueprint") + " " + vars.get("version") + ", "
                    + vars.get("type") + "), " + where + ": " + e.getMessage();
            return new Retry(Math.max(now - 1, 0), backoffMs << Math.max(0, Math.min(10, max - now)),
                    incident.length() > 600 ? incident.substring(0, 600) + "…" : incident, stackTrace(e));
        }

        /** What the compose's log says comes next. */
        public String plan() {
            return left > 0 ? "; retrying in " + backoffMs + " ms (" + left + " left)"
                    : "; no retries left, an incident is open";
        }
    }

    /** An engine call at a step's end; a task that is gone meanwhile (cancelled, deleted) is not an error. */
    static void engine(String uuid, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException gone) {
            log.info("compose {}: its task could not be ended ({})", uuid, gone.getMessage());
        }
    }

    /** A line for the compose's log; a log that cannot be written (a full disk) costs the line, not the step. */
    public static void note(ResultsDir results, String level, String line) {
        quietly(() -> results.log(level, line));
    }

    public static void quietly(Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            log.warn("cannot write to a compose's results: {}", e.toString());
        }
    }

    /**
     * Why a step failed for good, or null when a retry may mend it (network, I/O): a business failure, a tool or
     * script that exited non-zero, a plan the image cannot have, no sandbox (the same plan on the same host fails
     * the same way again), or a full disk (until someone frees space).
     */
    public static String finalReason(String topic, Exception e, Path localDir) {
        if (isDiskFull(e)) { // a tool that failed writing, too (xz: "Write error: No space left on device")
            return topic + ": no space left on device under " + localDir + " (" + e.getMessage()
                    + "); free space and start the compose again";
        }
        if (e instanceof StepFailedException || e instanceof ToolFailedException || e instanceof PlanException
                || e instanceof Sandbox.SandboxMissingException) {
            return topic + ": " + e.getMessage();
        }
        return null;
    }

    /** ENOSPC (or EDQUOT) anywhere in the cause chain, as Java and the tools word it. */
    static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("No space left on device") || m.contains("Disk quota exceeded")) {
                return true;
            }
        }
        return false;
    }

    private static String stackTrace(Exception e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
