package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.output.OutputType;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.HistoryService;
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
    private final StepTimeouts timeouts;
    private final StepSignals signals;
    private final FirstInstances firstInstances;
    private final StepEnds ends;
    private final UnservedSteps unserved;
    private final Map<String, ComposeStep> steps = new LinkedHashMap<>();
    private final KilnProperties properties;
    private final boolean enabled;
    private final int buildConcurrency;
    private final int stepConcurrency;
    private final int testConcurrency;
    private final long lockMs;
    private final String workerId;
    private final Map<String, RunningStep> running = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private ScheduledExecutorService heartbeat;
    /**
     * Idle loops wait on the monitor of their topic and kind (the build topic has loops for real builds and for
     * each test mode, which fetch different composes); a completed step or a new compose wakes one loop of each
     * (a loop that then finds work wakes the next of its kind), so handoffs take milliseconds without every idle
     * thread querying the engine at every step, and no wake-up goes to a loop that cannot take the work.
     */
    private final Map<String, Wake> wakes = new ConcurrentHashMap<>();

    /** A monitor with a flag, so that a wake-up given while every loop is querying is not lost. */
    private static final class Wake {
        private boolean pending;

        synchronized void give() {
            pending = true;
            notify();
        }

        synchronized void giveAll() {
            pending = true;
            notifyAll();
        }

        synchronized void clear() {
            pending = false;
        }

        /** Waits up to {@code ms} unless a wake-up came since {@link #clear}. */
        synchronized void await(long ms) throws InterruptedException {
            if (!pending) {
                wait(ms);
            }
            pending = false;
        }
    }
    private volatile boolean active;

    public Workers(ExternalTaskService tasks, HistoryService history, BpmnDirectory deployed,
            ObjectProvider<ComposeStep> steps, KilnProperties properties,
            @Value("${kiln.compose.workers:true}") boolean enabled,
            @Value("${kiln.compose.build-concurrency:1}") int buildConcurrency,
            @Value("${kiln.compose.step-concurrency:2}") int stepConcurrency,
            @Value("${kiln.compose.test-concurrency:4}") int testConcurrency,
            @Value("${kiln.compose.lock-seconds:60}") int lockSeconds,
            @Value("${kiln.compose.retries:3}") int maxRetries,
            @Value("${kiln.compose.retry-backoff-ms:2000}") long retryBackoffMs, StepTimeouts timeouts,
            StepSignals signals) {
        this.tasks = tasks;
        this.signals = signals;
        this.timeouts = timeouts;
        this.firstInstances = new FirstInstances(history);
        steps.orderedStream().forEach(s -> {
            if (this.steps.put(s.topic(), s) != null) {
                throw new IllegalStateException("two workers for topic " + s.topic());
            }
        });
        this.properties = properties;
        this.enabled = enabled;
        this.buildConcurrency = buildConcurrency;
        this.stepConcurrency = stepConcurrency;
        this.testConcurrency = testConcurrency;
        this.lockMs = lockSeconds * 1000L;
        this.workerId = "kiln-" + ManagementFactory.getRuntimeMXBean().getName();
        this.ends = new StepEnds(tasks, maxRetries, retryBackoffMs);
        this.unserved = new UnservedSteps(tasks, timeouts, properties.resultsDir(), workerId, lockMs);
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
        signals.onTaskCreated(this::wake);
        for (ComposeStep step : steps.values()) {
            if (!ComposeProcess.HEAVY_TOPICS.contains(step.topic())) {
                loops(step, "", stepConcurrency, Map.of());
                continue;
            }
            // a build slot is for real builds; lorax's test composes (test=1|2: a sleep, no image) never wait for one
            loops(step, "", buildConcurrency, Map.of("test", 0));
            for (int test = 1; test <= 2 && buildConcurrency > 0; test++) {
                loops(step, testKind(test), testConcurrency, Map.of("test", test));
            }
        }
        heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "worker-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(this::extendLocks, lockMs / 3, lockMs / 3, TimeUnit.MILLISECONDS);
        heartbeat.scheduleWithFixedDelay(() -> unserved.failThoseNotIn(steps.keySet()), 5, 5, TimeUnit.SECONDS);
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
        running.values().forEach(r -> r.tools.killAll());
        wakes.values().forEach(Wake::giveAll);
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

    /**
     * A task of {@code topic} (null: unknown, every loop looks) was created for a compose of test mode {@code test}
     * ({@link StepSignals}, when its transaction committed on this node): wakes one loop of the kind that can take it,
     * not a loop of every topic (each of which would query the engine for nothing).
     */
    private void wake(String topic, int test) {
        if (topic == null) { // one loop of every kind looks
            wakes.values().forEach(Wake::give);
            return;
        }
        Wake w = wakes.get(topic + "/" + (ComposeProcess.HEAVY_TOPICS.contains(topic) ? testKind(test) : ""));
        if (w != null) {
            w.give();
        }
    }

    /** The kind of a heavy topic's loops that serve composes of lorax's test mode {@code test} (0: real builds). */
    private static String testKind(int test) {
        return test > 0 ? "test" + test + "-" : "";
    }

    private Wake wake(String topicAndKind) {
        return wakes.computeIfAbsent(topicAndKind, t -> new Wake());
    }

    /**
     * Stops the step of a compose running on this node (cancel): its processes are killed and its tool runner
     * refuses to start more, so the step ends at its next tool; the thread is never interrupted (see {@link #stop}).
     * Answers whether there was one.
     */
    public boolean stopLocal(String uuid, long waitMs) {
        RunningStep r = running.get(uuid);
        if (r == null) {
            return false;
        }
        r.tools.killAll();
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

    /** Starts {@code n} threads serving the step's tasks whose compose's variables are {@code only}. */
    private void loops(ComposeStep step, String kind, int n, Map<String, Object> only) {
        Wake monitor = wake(step.topic() + "/" + kind);
        for (int i = 1; i <= n; i++) {
            String id = workerId + "-" + step.topic() + "-" + kind + i; // each thread locks as itself
            Thread t = new Thread(() -> loop(step, id, only, monitor), "worker-" + step.topic() + "-" + kind + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void loop(ComposeStep step, String workerId, Map<String, Object> only, Wake monitor) {
        long idle = 5;
        while (active) {
            List<LockedExternalTask> locked;
            monitor.clear(); // a wake-up from now on is for this query or the next
            try {
                locked = tasks.fetchAndLock().workerId(workerId).maxTasks(1).usePriority(true).orderByCreateTime().asc()
                        .subscribe().topic(step.topic(), lockMs).variables(ComposeProcess.STEP_VARIABLES)
                        .processInstanceVariableEquals(only).execute();
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
                    monitor.await(idle);
                } catch (InterruptedException e) {
                    return;
                }
                idle = Math.min(idle * 2, 500);
                continue;
            }
            idle = 5;
            monitor.give(); // more work of this kind may be waiting: the next loop looks
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
        if (!firstInstances.isFirst(task.getProcessInstanceId(), uuid)) {
            tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE, "compose " + uuid
                    + " exists already: this instance, started with its UUID as business key, is not it");
            return;
        }
        ResultsDir results = new ResultsDir(properties.resultsDir(), uuid);
        if (!results.exists() && !step.topic().equals(PrepareStep.TOPIC)) { // prepare makes it
            // nothing can be built without it (a start that claimed "prepared" but was not, or a compose being removed)
            StepEnds.engine(uuid, () -> tasks.handleBpmnError(task.getId(), workerId, ComposeProcess.ERROR_CODE,
                    "compose " + uuid + " has no results directory"));
            return;
        }
        Map<String, Object> vars = task.getVariables();
        OutputType type = OutputType.byId(String.valueOf(vars.get("type"))).orElse(OutputType.TAR);
        int test = vars.get("test") instanceof Number n ? n.intValue() : 0;
        long size = vars.get("size") instanceof Number n ? n.longValue() : 0;
        Progress progress = new Progress(results, line -> StepEnds.note(results, "INFO", line));
        ToolRunner tools = new ToolRunner((level, line) -> StepEnds.note(results, level, line), progress);
        RunningStep me = new RunningStep(task.getId(), workerId, tools);
        running.put(uuid, me);
        MDC.put("compose", uuid);
        long t0 = System.nanoTime();
        ScheduledFuture<?> watchdog = heartbeat == null ? null : heartbeat.schedule(() -> {
            me.timedOut = true;
            tools.killAll();
        }, timeouts.of(step.topic()).toMillis(), TimeUnit.MILLISECONDS);
        try {
            StepEnds.note(results, "INFO", step.topic() + " started by " + workerId);
            progress.start(step.topic());
            Map<String, Object> output = new HashMap<>();
            step.execute(new ComposeTask(uuid, type, test, size, results, tools, vars, output,
                    built -> publish(me, results, type, built)));
            StepEnds.note(results, "INFO", step.topic() + " done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            progress.end(true, workerId);
            ends.complete(me, task, output); // its commit wakes the loop of the next task (StepSignals)
        } catch (Exception e) {
            progress.end(false, workerId);
            ended(step, task, results, me, e);
        } finally {
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            running.remove(uuid, me);
            MDC.remove("compose");
        }
    }

    /**
     * A step that threw: stopped (cancel, shutdown) → nothing to report; timed out, a business failure, a tool or
     * script that exited non-zero, a plan the image cannot have, no sandbox, a full disk → FAILED at once; anything
     * else (network, I/O) → retried.
     */
    private void ended(ComposeStep step, LockedExternalTask task, ResultsDir results, RunningStep me, Exception e) {
        String reason = StepEnds.finalReason(step.topic(), e, properties.localDir());
        if (me.timedOut) {
            ends.fail(results, me, task, timeouts.timedOut(step.topic()));
        } else if (me.tools.killed() || (!(e instanceof StepFailedException) && !active)) {
            log.info("{} of compose {} stopped", step.topic(), task.getBusinessKey());
        } else if (reason != null) {
            ends.fail(results, me, task, reason);
        } else {
            ends.retry(results, me, task, step.topic(), e);
        }
    }

    /**
     * Renames a built image into {@code compose/<image>}, if this worker still holds the step's task: a step whose
     * lock lapsed (a stalled node) while another took it over leaves nothing behind.
     */
    private void publish(RunningStep me, ResultsDir results, OutputType type, Path built) throws IOException {
        if (!HeldTasks.holds(tasks, me.taskId, me.workerId)) {
            throw new IOException("the task of this step is no longer held by " + me.workerId + "; image not kept");
        }
        Files.move(built, results.file(ResultsDir.COMPOSE).resolve(type.imageName()), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    private void extendLocks() {
        for (Map.Entry<String, RunningStep> e : running.entrySet()) {
            RunningStep r = e.getValue();
            try {
                synchronized (r) {
                    if (r.isEnding()) {
                        continue;
                    }
                    tasks.extendLock(r.taskId, r.workerId, lockMs);
                }
            } catch (RuntimeException gone) {
                log.info("compose {}: its task is gone ({}), stopping the step", e.getKey(), gone.getMessage());
                e.getValue().tools.killAll();
            }
        }
    }
}
