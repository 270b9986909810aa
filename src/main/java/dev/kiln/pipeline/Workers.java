package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.image.sandbox.ToolFailedException;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.kickstart.PlanException;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.operaton.bpm.engine.externaltask.LockedExternalTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The in-process workers: for each topic of {@code compose.bpmn}, threads that fetch and lock external tasks
 * (highest priority, i.e. oldest compose, first), run the step, and complete it, report a BPMN error (business
 * failure → FAILED at once) or a failure with bounded retries and backoff (→ an incident when they run out). Locks
 * are short and extended while a step runs, so a dead node's step is picked up again quickly; a lock that cannot be
 * extended (the compose was cancelled) stops the step and kills its processes.
 */
@Component
public class Workers implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(Workers.class);
    /** The process variables a step is given (all small: the rest lives in the results directory). */
    private static final String[] VARIABLES = {"type", "test", "size", "blueprint", "version", "branch", "bootTest"};

    private final ExternalTaskService tasks;
    private final Environment environment;
    private final HistoryService history;
    private final Map<String, ComposeStep> steps = new LinkedHashMap<>();
    private final KilnProperties properties;
    private final boolean enabled;
    private final int buildConcurrency;
    private final int stepConcurrency;
    private final long lockMs;
    private final int maxRetries;
    private final long retryBackoffMs;
    private final String workerId;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private ScheduledExecutorService heartbeat;
    /** Idle loops wait here; a completed step or a new compose wakes them, so handoffs take milliseconds. */
    private final Object wake = new Object();
    private volatile boolean active;

    /**
     * A step in progress on this node. Its monitor keeps the heartbeat's lock extension and the worker's final
     * call (complete, error, failure) apart: the two would otherwise collide in the engine (optimistic locking).
     */
    private static final class Running {
        final String taskId;
        final String workerId;
        final ToolRunner tools;
        boolean ending;
        /** Set by the step's watchdog when it ran past its timeout (its processes are then killed). */
        volatile boolean timedOut;

        Running(String taskId, String workerId, ToolRunner tools) {
            this.taskId = taskId;
            this.workerId = workerId;
            this.tools = tools;
        }

        ToolRunner tools() {
            return tools;
        }

        synchronized void ending() {
            ending = true;
        }
    }

    public Workers(ExternalTaskService tasks, HistoryService history, BpmnDirectory deployed,
            ObjectProvider<ComposeStep> steps, KilnProperties properties,
            @Value("${kiln.compose.workers:true}") boolean enabled,
            @Value("${kiln.compose.build-concurrency:1}") int buildConcurrency,
            @Value("${kiln.compose.step-concurrency:2}") int stepConcurrency,
            @Value("${kiln.compose.lock-seconds:60}") int lockSeconds,
            @Value("${kiln.compose.retries:3}") int maxRetries,
            @Value("${kiln.compose.retry-backoff-ms:2000}") long retryBackoffMs, Environment environment) {
        this.tasks = tasks;
        this.environment = environment;
        this.history = history;
        steps.orderedStream().forEach(s -> {
            if (this.steps.put(s.topic(), s) != null) {
                throw new IllegalStateException("two workers for topic " + s.topic());
            }
        });
        this.properties = properties;
        this.enabled = enabled;
        this.buildConcurrency = buildConcurrency;
        this.stepConcurrency = stepConcurrency;
        this.lockMs = lockSeconds * 1000L;
        this.maxRetries = maxRetries;
        this.retryBackoffMs = retryBackoffMs;
        this.workerId = "kiln-" + ManagementFactory.getRuntimeMXBean().getName();
    }

    /** The topics that have a worker (a test checks them against the BPMN). */
    public List<String> topics() {
        return List.copyOf(steps.keySet());
    }

    @Override
    public synchronized void start() {
        active = true;
        if (!enabled) {
            return;
        }
        for (ComposeStep step : steps.values()) {
            int n = ComposeProcess.HEAVY_TOPICS.contains(step.topic()) ? buildConcurrency : stepConcurrency;
            for (int i = 1; i <= n; i++) {
                String id = workerId + "-" + step.topic() + "-" + i; // each thread locks as itself
                Thread t = new Thread(() -> loop(step, id), "worker-" + step.topic() + "-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }
        heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "worker-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(this::extendLocks, lockMs / 3, lockMs / 3, TimeUnit.MILLISECONDS);
        heartbeat.scheduleWithFixedDelay(this::failUnserved, 5, 5, TimeUnit.SECONDS);
        log.info("Workers {} started: {} (build concurrency {}), lock {} s", workerId, steps.keySet(),
                buildConcurrency, lockMs / 1000);
    }

    /**
     * Stops the workers without interrupting a thread: one that is inside the engine or JDBC when interrupted would
     * make Java close H2's file channel ("The database has been closed" for every later call). Steps are stopped by
     * killing their processes; idle threads are woken and see that the workers are inactive.
     */
    @Override
    public synchronized void stop() {
        active = false;
        if (heartbeat != null) {
            heartbeat.shutdown();
        }
        running.values().forEach(r -> r.tools().killAll());
        wakeUp();
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        threads.clear();
    }

    @Override
    public boolean isRunning() {
        return active;
    }

    /** Makes idle workers poll now (a compose was submitted or a step completed on this node). */
    public void wakeUp() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /**
     * Stops the step of a compose running on this node (cancel): its processes are killed and its tool runner
     * refuses to start more, so the step ends at its next tool; the thread is never interrupted (see {@link #stop}).
     * Answers whether there was one.
     */
    public boolean stopLocal(String uuid, long waitMs) {
        Running r = running.get(uuid);
        if (r == null) {
            return false;
        }
        r.tools().killAll();
        long deadline = System.currentTimeMillis() + waitMs;
        while (running.get(uuid) == r && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return true;
    }

    private void loop(ComposeStep step, String workerId) {
        long idle = 5;
        while (active) {
            List<LockedExternalTask> locked;
            try {
                locked = tasks.fetchAndLock().workerId(workerId).maxTasks(1).usePriority(true).orderByCreateTime().asc()
                        .subscribe().topic(step.topic(), lockMs).variables(VARIABLES).execute();
            } catch (RuntimeException e) {
                if (!active) {
                    return;
                }
                log.warn("fetching {} tasks failed: {}", step.topic(), e.toString());
                locked = List.of();
                idle = 1000;
            }
            if (locked.isEmpty()) {
                try {
                    synchronized (wake) {
                        wake.wait(idle);
                    }
                } catch (InterruptedException e) {
                    return;
                }
                idle = Math.min(idle * 2, 500);
                continue;
            }
            idle = 5;
            try {
                handle(step, locked.get(0), workerId);
            } catch (Throwable e) { // the thread outlives anything a step or the engine throws (a full disk too)
                log.error("{} worker {}: a step ended abnormally", step.topic(), workerId, e);
                idle = 1000;
            }
        }
    }

    private void handle(ComposeStep step, LockedExternalTask task, String workerId) {
        String uuid = task.getBusinessKey();
        if (!ResultsDir.isUuid(uuid)) {
            tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, "not a compose: " + uuid);
            return;
        }
        if (!isTheCompose(task, uuid)) {
            tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, "compose " + uuid
                    + " exists already: this instance, started with its UUID as business key, is not it");
            return;
        }
        ResultsDir results = new ResultsDir(properties.resultsDir(), uuid);
        if (!results.exists() && !step.topic().equals(PrepareStep.TOPIC)) { // prepare makes it
            // nothing can be built without it (a start that claimed "prepared" but was not, or a compose being removed)
            engine(uuid, () -> tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE,
                    "compose " + uuid + " has no results directory"));
            return;
        }
        Map<String, Object> vars = task.getVariables();
        OutputType type = OutputType.byId(String.valueOf(vars.get("type"))).orElse(OutputType.TAR);
        int test = vars.get("test") instanceof Number n ? n.intValue() : 0;
        long size = vars.get("size") instanceof Number n ? n.longValue() : 0;
        ToolRunner tools = new ToolRunner((level, line) -> note(results, level, line));
        Running me = new Running(task.getId(), workerId, tools);
        running.put(uuid, me);
        MDC.put("compose", uuid);
        long t0 = System.nanoTime();
        Duration timeout = timeout(step.topic());
        ScheduledFuture<?> watchdog = heartbeat == null ? null : heartbeat.schedule(() -> {
            me.timedOut = true;
            tools.killAll();
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            note(results, "INFO", step.topic() + " started by " + workerId);
            Map<String, Object> output = new HashMap<>();
            step.execute(new ComposeTask(uuid, type, test, size, results, tools, vars, output));
            note(results, "INFO", step.topic() + " done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            me.ending();
            engine(uuid, () -> tasks.complete(task.getId(), workerId, output, Map.of()));
            wakeUp();
        } catch (StepFailedException e) {
            if (me.timedOut) {
                fail(results, me, task, workerId, timedOut(step.topic(), timeout));
                return;
            }
            if (tools.killed()) {
                return;
            }
            fail(results, me, task, workerId, step.topic() + ": " + e.getMessage());
        } catch (Exception e) {
            if (me.timedOut) {
                fail(results, me, task, workerId, timedOut(step.topic(), timeout));
                return;
            }
            if (tools.killed() || !active) {
                log.info("{} of compose {} stopped", step.topic(), uuid);
                return;
            }
            if (e instanceof ToolFailedException || e instanceof PlanException || e instanceof Sandbox.SandboxMissingException) {
                // deterministic: the same plan (or the same host set-up) fails the same way again
                fail(results, me, task, workerId, step.topic() + ": " + e.getMessage());
                return;
            }
            if (isDiskFull(e)) { // retrying cannot help until someone frees space; the next compose may build
                fail(results, me, task, workerId, step.topic() + ": no space left on device under "
                        + properties.stateDir() + " (" + e.getMessage() + "); free space and start the compose again");
                return;
            }
            int retries = task.getRetries() == null ? maxRetries : task.getRetries();
            int left = Math.max(retries - 1, 0);
            long backoff = retryBackoffMs << Math.max(0, Math.min(10, maxRetries - retries));
            log.warn("{} of compose {} failed ({} retries left)", step.topic(), uuid, left, e);
            if (results.exists()) {
                note(results, "ERROR", step.topic() + " failed: " + e + (left > 0
                        ? "; retrying in " + backoff + " ms (" + left + " left)" : "; no retries left, an incident is open"));
                if (left == 0) {
                    quietly(() -> results.status("FAILED"));
                }
            }
            me.ending();
            // an incident's message (what Cockpit lists) names the compose: UUID, blueprint, type
            String incident = "compose " + uuid + " (" + vars.get("blueprint") + " " + vars.get("version") + ", "
                    + vars.get("type") + "), " + step.topic() + ": " + e.getMessage();
            engine(uuid, () -> tasks.handleFailure(task.getId(), workerId,
                    incident.length() > 600 ? incident.substring(0, 600) + "…" : incident, stackTrace(e), left, backoff));
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            running.remove(uuid, me);
            MDC.remove("compose");
        }
    }

    /** Whether the task's instance is the first of its business key: a later one must not touch its results. */
    private boolean isTheCompose(LockedExternalTask task, String uuid) {
        if (confirmed.containsKey(task.getProcessInstanceId())) { // once per instance and node: the answer never changes
            return true;
        }
        boolean first = history.createHistoricProcessInstanceQuery().processDefinitionKey(ComposeProcess.KEY)
                .processInstanceBusinessKey(uuid).orderByProcessInstanceStartTime().asc().listPage(0, 1).stream()
                .findFirst().map(h -> h.getId().equals(task.getProcessInstanceId())).orElse(true);
        if (first) {
            if (confirmed.size() > 10_000) {
                confirmed.clear();
            }
            confirmed.put(task.getProcessInstanceId(), Boolean.TRUE);
        }
        return first;
    }

    /** Process instances already known to be the first of their business key (see {@link #isTheCompose}). */
    private final Map<String, Boolean> confirmed = new ConcurrentHashMap<>();

    private void extendLocks() {
        for (Map.Entry<String, Running> e : running.entrySet()) {
            Running r = e.getValue();
            try {
                synchronized (r) {
                    if (r.ending) {
                        continue;
                    }
                    tasks.extendLock(r.taskId, r.workerId, lockMs);
                }
            } catch (RuntimeException gone) {
                log.info("compose {}: its task is gone ({}), stopping the step", e.getKey(), gone.getMessage());
                e.getValue().tools().killAll();
            }
        }
    }

    /**
     * How long a step may run: {@code kiln.compose.timeout.<topic>} (an ISO-8601 duration such as {@code PT2H}, or
     * {@code 90m}), by default 3 hours for {@code build}, 2 for {@code boot-test}, 30 minutes for the others.
     */
    Duration timeout(String topic) {
        Duration fallback = topic.equals("build") ? Duration.ofHours(3)
                : topic.equals("boot-test") ? Duration.ofHours(2) : Duration.ofMinutes(30);
        return environment.getProperty("kiln.compose.timeout." + topic, Duration.class, fallback);
    }

    private static String timedOut(String topic, Duration timeout) {
        return topic + ": timed out after " + show(timeout) + " (kiln.compose.timeout." + topic
                + "); its processes were stopped";
    }

    /** A duration as the messages write it: {@code 2s}, {@code 30m}, {@code 3h}. */
    private static String show(Duration d) {
        return d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    /**
     * A step of a topic no worker here serves (one a user added, for a worker of their own) that nobody has taken
     * within its timeout ends the compose FAILED, saying so, instead of waiting forever.
     */
    private void failUnserved() {
        try {
            Date now = new Date();
            for (ExternalTask t : tasks.createExternalTaskQuery().processDefinitionKey(ComposeProcess.KEY).notLocked()
                    .list()) {
                if (steps.containsKey(t.getTopicName()) || t.getCreateTime() == null
                        || now.getTime() - t.getCreateTime().getTime() < timeout(t.getTopicName()).toMillis()) {
                    continue;
                }
                String message = t.getTopicName() + ": no worker took the step within "
                        + show(timeout(t.getTopicName())) + " (kiln.compose.timeout." + t.getTopicName() + ")";
                try {
                    tasks.lock(t.getId(), workerId + "-watchdog", lockMs);
                    if (ResultsDir.isUuid(t.getBusinessKey())) {
                        ResultsDir results = new ResultsDir(properties.resultsDir(), t.getBusinessKey());
                        if (results.exists()) {
                            note(results, "ERROR", message);
                            quietly(() -> results.status("FAILED"));
                        }
                    }
                    tasks.handleBpmnError(t.getId(), workerId + "-watchdog", ComposeProcess.ERROR_CODE, message);
                } catch (RuntimeException taken) {
                    log.debug("task {} was taken meanwhile: {}", t.getId(), taken.getMessage());
                }
            }
        } catch (RuntimeException e) {
            log.warn("checking for unserved steps failed: {}", e.toString());
        }
    }

    /** Ends the compose FAILED at once (a BPMN error), with {@code message} in its log and its process. */
    private void fail(ResultsDir results, Running me, LockedExternalTask task, String workerId, String message) {
        note(results, "ERROR", message);
        quietly(() -> results.time("finished", Instant.now()));
        quietly(() -> results.status("FAILED"));
        me.ending();
        engine(task.getBusinessKey(), () -> tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, message));
    }

    /** An engine call at a step's end; a task that is gone meanwhile (cancelled, deleted) is not an error. */
    private static void engine(String uuid, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException gone) {
            log.info("compose {}: its task could not be ended ({})", uuid, gone.getMessage());
        }
    }

    /** A line for the compose's log; a log that cannot be written (a full disk) costs the line, not the step. */
    private static void note(ResultsDir results, String level, String line) {
        quietly(() -> results.log(level, line));
    }

    private static void quietly(Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            log.warn("cannot write to a compose's results: {}", e.toString());
        }
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
