package dev.kiln.worker;

import dev.kiln.output.OutputType;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.pipeline.ComposeProcess;
import dev.kiln.pipeline.ComposeStep;
import dev.kiln.pipeline.ComposeTask;
import dev.kiln.pipeline.StepEnds;
import dev.kiln.pipeline.StepEnds.Retry;
import dev.kiln.pipeline.StepTimeouts;
import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.camunda.bpm.client.task.ExternalTask;
import org.camunda.bpm.client.task.ExternalTaskHandler;
import org.camunda.bpm.client.task.ExternalTaskService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One topic's handler in a remote worker: for each task it holds, the compose's inputs are taken from a node into a
 * results directory of the worker's own, the same step code as on a node runs there (its log shipped to the node
 * as it grows, the lock extended as a heartbeat), and what it made goes back: the image with its SHA-256, the log
 * files, then the task is completed. A lock that cannot be extended (the compose was cancelled, or the lock expired
 * and another worker has the task) stops the step and leaves nothing on the node.
 */
final class RemoteStep implements ExternalTaskHandler {

    private static final Logger log = LoggerFactory.getLogger(RemoteStep.class);
    private final ComposeStep step;
    private final NodeClient node;
    private final Path resultsRoot;
    private final Path localDir;
    private final StepTimeouts timeouts;
    private final ScheduledExecutorService timers;
    private final long lockMs;
    private final int maxRetries;
    private final long retryBackoffMs;
    private final Map<String, ToolRunner> running;

    RemoteStep(ComposeStep step, NodeClient node, Path resultsRoot, Path localDir, StepTimeouts timeouts,
            ScheduledExecutorService timers, long lockMs, int maxRetries, long retryBackoffMs,
            Map<String, ToolRunner> running) {
        this.step = step;
        this.node = node;
        this.resultsRoot = resultsRoot;
        this.localDir = localDir;
        this.timeouts = timeouts;
        this.timers = timers;
        this.lockMs = lockMs;
        this.maxRetries = maxRetries;
        this.retryBackoffMs = retryBackoffMs;
        this.running = running;
    }

    /** What each topic reads from the node (the plan, the package set; a boot test the image too). */
    static List<String> inputs(String topic) {
        return topic.equals("boot-test")
                ? List.of(ResultsDir.BLUEPRINT, ResultsDir.CONFIG, ResultsDir.DEPS, ResultsDir.FINAL_KICKSTART, "image")
                : List.of(ResultsDir.BLUEPRINT, ResultsDir.CONFIG, ResultsDir.DEPS, ResultsDir.FROZEN,
                        ResultsDir.FINAL_KICKSTART);
    }

    @Override
    public void execute(ExternalTask task, ExternalTaskService service) {
        String uuid = task.getBusinessKey();
        String worker = task.getWorkerId();
        if (!ResultsDir.isUuid(uuid)) {
            quietly(() -> service.handleBpmnError(task, ComposeProcess.ERROR_CODE, "not a compose: " + uuid));
            return;
        }
        Map<String, Object> vars = task.getAllVariables();
        OutputType type = OutputType.byId(String.valueOf(vars.get("type"))).orElse(OutputType.TAR);
        int test = vars.get("test") instanceof Number n ? n.intValue() : 0;
        long size = vars.get("size") instanceof Number n ? n.longValue() : 0;
        ResultsDir results = new ResultsDir(resultsRoot, uuid);
        Progress progress = new Progress(results, line -> StepEnds.note(results, "INFO", line));
        ToolRunner tools = new ToolRunner((level, line) -> StepEnds.note(results, level, line), progress);
        LogShipper shipper = new LogShipper(results, node, task.getId(), worker);
        boolean[] lost = {false};
        boolean[] timedOut = {false};
        boolean[] metricsSent = {false};
        ScheduledFuture<?> heartbeat = timers.scheduleAtFixedRate(() -> {
            try {
                service.extendLock(task, lockMs);
            } catch (RuntimeException e) {
                log.info("compose {}: the lock of its {} task is gone ({}); stopping", uuid, step.topic(), e.getMessage());
                lost[0] = true;
                tools.killAll();
            }
        }, lockMs / 3, lockMs / 3, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> shipping = timers.scheduleWithFixedDelay(shipper::ship, 1, 1, TimeUnit.SECONDS);
        ScheduledFuture<?> watchdog = timers.schedule(() -> {
            timedOut[0] = true;
            tools.killAll();
        }, timeouts.of(step.topic()).toMillis(), TimeUnit.MILLISECONDS);
        running.put(task.getId(), tools);
        long t0 = System.nanoTime();
        try {
            results.deleteAll(); // what an earlier attempt here left
            results.create();
            for (String name : inputs(step.topic())) {
                Path target = name.equals("image") ? results.file(ResultsDir.COMPOSE).resolve(type.imageName())
                        : results.file(name);
                node.download(task.getId(), worker, name, target);
            }
            if (step.topic().equals("build")) {
                node.post(task.getId(), worker, "started", "");
            }
            StepEnds.note(results, "INFO", step.topic() + " started by " + worker);
            progress.start(step.topic());
            Map<String, Object> output = new HashMap<>();
            step.execute(new ComposeTask(uuid, type, test, size, results, tools, vars, output, built -> {
                long t1 = System.nanoTime();
                node.upload(task.getId(), worker, built);
                StepEnds.note(results, "INFO", String.format("image sent to %s: %d bytes in %d ms", node.node(),
                        Files.size(built), (System.nanoTime() - t1) / 1_000_000));
            }));
            StepEnds.note(results, "INFO", step.topic() + " done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            progress.end(true, worker);
            metricsSent[0] = true; // sent once: the node adds what it is sent
            sendMetrics(results, task.getId(), worker);
            sendLogFiles(results, task.getId(), worker);
            shipper.ship();
            service.complete(task, output);
        } catch (Exception e) {
            if (!metricsSent[0]) {
                progress.end(false, worker);
                quietly(() -> sendMetrics(results, task.getId(), worker));
            }
            ended(task, service, results, shipper, tools, lost[0], timedOut[0], e);
        } finally {
            heartbeat.cancel(false);
            shipping.cancel(false);
            watchdog.cancel(false);
            running.remove(task.getId());
            quietly(results::deleteAll);
        }
    }

    /** As a node's workers end a step: stopped → nothing; for good → FAILED at once; anything else → retried. */
    private void ended(ExternalTask task, ExternalTaskService service, ResultsDir results, LogShipper shipper,
            ToolRunner tools, boolean lost, boolean timedOut, Exception e) {
        String uuid = task.getBusinessKey();
        if (lost || (tools.killed() && !timedOut)) {
            log.info("{} of compose {} stopped", step.topic(), uuid);
            return;
        }
        String reason = timedOut ? timeouts.timedOut(step.topic()) : StepEnds.finalReason(step.topic(), e, localDir);
        if (reason != null) {
            StepEnds.note(results, "ERROR", reason);
            shipper.ship();
            quietly(() -> node.post(task.getId(), task.getWorkerId(), "failed", reason));
            quietly(() -> service.handleBpmnError(task, ComposeProcess.ERROR_CODE, reason));
            return;
        }
        Retry r = Retry.of(task.getRetries(), maxRetries, retryBackoffMs, uuid, task.getAllVariables(),
                step.topic() + " on " + task.getWorkerId(), e);
        log.warn("{} of compose {} failed ({} retries left)", step.topic(), uuid, r.left(), e);
        StepEnds.note(results, "ERROR", step.topic() + " failed on " + task.getWorkerId() + ": " + e + r.plan());
        shipper.ship();
        quietly(() -> service.handleFailure(task, r.incident(), r.details(), r.left(), r.backoffMs()));
    }

    /** The step's own log files (a boot test's console) go to the node's {@code logs/}; the combined log is shipped. */
    private void sendLogFiles(ResultsDir results, String task, String worker) throws IOException, InterruptedException {
        Path logs = results.file(ResultsDir.LOGS);
        if (!Files.isDirectory(logs)) {
            return;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(logs)) {
            files = list.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(".log")
                    && !f.getFileName().toString().equals("combined.log")).sorted().toList();
        }
        for (Path f : files) {
            node.putFile(task, worker, "logs/" + f.getFileName(), f);
        }
        if (results.has(ResultsDir.SBOM)) { // the build's bill of materials, written from the tree here
            node.putFile(task, worker, "sbom", results.file(ResultsDir.SBOM));
        }
    }

    /** This step's entries of {@code metrics.json}, added to the compose's on the node. */
    private void sendMetrics(ResultsDir results, String task, String worker) throws IOException, InterruptedException {
        if (results.has(ResultsDir.METRICS)) {
            node.putFile(task, worker, "metrics", results.file(ResultsDir.METRICS));
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static void quietly(Call call) {
        try {
            call.run();
        } catch (Exception e) {
            log.warn("{}", e.toString());
        }
    }
}
