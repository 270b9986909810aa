package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.image.OutputType;
import dev.kiln.image.ToolRunner;
import dev.kiln.store.ResultsDir;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.externaltask.LockedExternalTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
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

    private final ExternalTaskService tasks;
    private final Map<String, ComposeStep> steps = new java.util.LinkedHashMap<>();
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
        final Thread thread;
        final ToolRunner tools;
        boolean ending;

        Running(String taskId, Thread thread, ToolRunner tools) {
            this.taskId = taskId;
            this.thread = thread;
            this.tools = tools;
        }

        ToolRunner tools() {
            return tools;
        }

        Thread thread() {
            return thread;
        }

        synchronized void ending() {
            ending = true;
        }
    }

    public Workers(ExternalTaskService tasks, ObjectProvider<ComposeStep> steps, KilnProperties properties,
            @Value("${kiln.compose.workers:true}") boolean enabled,
            @Value("${kiln.compose.build-concurrency:1}") int buildConcurrency,
            @Value("${kiln.compose.step-concurrency:2}") int stepConcurrency,
            @Value("${kiln.compose.lock-seconds:60}") int lockSeconds,
            @Value("${kiln.compose.retries:3}") int maxRetries,
            @Value("${kiln.compose.retry-backoff-ms:2000}") long retryBackoffMs) {
        this.tasks = tasks;
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
                Thread t = new Thread(() -> loop(step), "worker-" + step.topic() + "-" + i);
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
        log.info("Workers {} started: {} (build concurrency {}), lock {} s", workerId, steps.keySet(),
                buildConcurrency, lockMs / 1000);
    }

    @Override
    public synchronized void stop() {
        active = false;
        if (heartbeat != null) {
            heartbeat.shutdownNow();
        }
        running.values().forEach(r -> r.tools().killAll());
        threads.forEach(Thread::interrupt);
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

    /** Stops the step of a compose running on this node (cancel); answers whether there was one. */
    public boolean stopLocal(String uuid, long waitMs) {
        Running r = running.get(uuid);
        if (r == null) {
            return false;
        }
        r.tools().killAll();
        r.thread().interrupt();
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

    private void loop(ComposeStep step) {
        long idle = 5;
        while (active) {
            List<LockedExternalTask> locked;
            try {
                locked = tasks.fetchAndLock().workerId(workerId).maxTasks(1).usePriority(true).orderByCreateTime().asc()
                        .subscribe().topic(step.topic(), lockMs).variables("type", "test", "size").execute();
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
            handle(step, locked.get(0));
            Thread.interrupted(); // a cancel's interrupt is for the step just done, not for the next fetch
        }
    }

    private void handle(ComposeStep step, LockedExternalTask task) {
        String uuid = task.getBusinessKey();
        if (!ResultsDir.isUuid(uuid)) {
            tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, "not a compose: " + uuid);
            return;
        }
        ResultsDir results = new ResultsDir(properties.resultsDir(), uuid);
        if (!results.exists()) {
            log.warn("compose {} has no results directory; its {} task is left to expire", uuid, step.topic());
            return;
        }
        Map<String, Object> vars = task.getVariables();
        OutputType type = OutputType.byId(String.valueOf(vars.get("type"))).orElse(OutputType.TAR);
        int test = vars.get("test") instanceof Number n ? n.intValue() : 0;
        long size = vars.get("size") instanceof Number n ? n.longValue() : 0;
        ToolRunner tools = new ToolRunner(results::log);
        Running me = new Running(task.getId(), Thread.currentThread(), tools);
        running.put(uuid, me);
        MDC.put("compose", uuid);
        long t0 = System.nanoTime();
        try {
            results.log("INFO", step.topic() + " started by " + workerId);
            step.execute(new ComposeTask(uuid, type, test, size, results, tools));
            results.log("INFO", step.topic() + " done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            me.ending();
            tasks.complete(task.getId(), workerId);
            wakeUp();
        } catch (StepFailedException e) {
            if (tools.killed()) {
                return;
            }
            results.log("ERROR", step.topic() + ": " + e.getMessage());
            results.time("finished", Instant.now());
            results.status("FAILED");
            me.ending();
            tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, e.getMessage());
        } catch (Exception e) {
            if (tools.killed() || !active) {
                log.info("{} of compose {} stopped", step.topic(), uuid);
                return;
            }
            int retries = task.getRetries() == null ? maxRetries : task.getRetries();
            int left = Math.max(retries - 1, 0);
            long backoff = retryBackoffMs << Math.max(0, Math.min(10, maxRetries - retries));
            log.warn("{} of compose {} failed ({} retries left)", step.topic(), uuid, left, e);
            if (results.exists()) {
                results.log("ERROR", step.topic() + " failed: " + e + (left > 0
                        ? "; retrying in " + backoff + " ms (" + left + " left)" : "; no retries left, an incident is open"));
                if (left == 0) {
                    results.status("FAILED");
                }
            }
            me.ending();
            try {
                tasks.handleFailure(task.getId(), workerId, String.valueOf(e.getMessage()), stackTrace(e), left, backoff);
            } catch (RuntimeException gone) {
                log.info("compose {}: {} task is gone ({})", uuid, step.topic(), gone.getMessage());
            }
        } finally {
            running.remove(uuid, me);
            MDC.remove("compose");
        }
    }

    private void extendLocks() {
        for (Map.Entry<String, Running> e : running.entrySet()) {
            Running r = e.getValue();
            try {
                synchronized (r) {
                    if (r.ending) {
                        continue;
                    }
                    tasks.extendLock(r.taskId, workerId, lockMs);
                }
            } catch (RuntimeException gone) {
                log.info("compose {}: its task is gone ({}), stopping the step", e.getKey(), gone.getMessage());
                e.getValue().tools().killAll();
                e.getValue().thread().interrupt();
            }
        }
    }

    private static String stackTrace(Exception e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
