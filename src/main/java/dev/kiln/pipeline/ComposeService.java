package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.output.OutputType;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.engine.MismatchingMessageCorrelationException;
import org.operaton.bpm.engine.OptimisticLockingException;
import org.operaton.bpm.engine.ProcessEnginePersistenceException;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.operaton.bpm.engine.history.HistoricProcessInstance;
import org.operaton.bpm.engine.history.HistoricVariableInstance;
import org.operaton.bpm.engine.runtime.ProcessInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Composes as the engine knows them: submission (one process instance per compose, business key = UUID), the
 * status of each derived from the engine (runtime, external-task locks, incidents, history), cancel and delete.
 */
@Component
public class ComposeService {

    public static final String WAITING = "WAITING";
    public static final String RUNNING = "RUNNING";
    public static final String FINISHED = "FINISHED";
    public static final String FAILED = "FAILED";

    private static final Logger log = LoggerFactory.getLogger(ComposeService.class);
    /** The steps that run at submission, while a compose is WAITING for its build slot. */
    /** Instances already reported as not being composes. */
    private final ComposeListing listing;
    private final RuntimeService runtime;
    private final HistoryService history;
    private final ExternalTaskService externalTasks;
    private final Workers workers;
    private final KilnProperties properties;

    /**
     * One compose as the queue and status routes list it. Times are epoch seconds or null; {@code instance} is its
     * process instance, {@code step} the topic of the step it is at (null once it has ended), {@code failure} why a
     * FAILED one failed (null otherwise, or when the engine recorded no reason).
     */
    public record Compose(String id, String status, String blueprint, String version, OutputType type,
            Double created, Double started, Double finished, long imageSize, String instance, String step,
            String typeName, Failure failure) {
    }

    /** A compose as Cockpit's compose list shows it: with the reason it failed (the step's or the incident's). */
    public record Overview(Compose compose, String error) {
    }

    public ComposeService(RuntimeService runtime, HistoryService history, ExternalTaskService externalTasks,
            Workers workers, KilnProperties properties,
            @Value("${kiln.compose.boot-test:false}") boolean bootTestByDefault) {
        this.bootTestByDefault = bootTestByDefault;
        this.runtime = runtime;
        this.history = history;
        this.externalTasks = externalTasks;
        this.workers = workers;
        this.properties = properties;
        this.listing = new ComposeListing(runtime, history, externalTasks, this::results);
    }

    private final boolean bootTestByDefault;

    public ResultsDir results(String uuid) {
        return new ResultsDir(properties.resultsDir(), uuid);
    }

    /**
     * Creates {@code results/<UUID>/} with the committed blueprint and starts its process; depsolve, freeze and
     * kickstart then run at once.
     */
    public String submit(Blueprint blueprint, String commit, OutputType type, long size, int test) {
        return submit(blueprint, commit, type, type.id(), size, test, null);
    }

    /**
     * As {@link #submit(Blueprint, String, OutputType, long, int)}; {@code typeName} is the name the user gave the
     * type (an alias of osbuild-composer's, shown back by the listings); {@code bootTest} asks for the boot-test
     * step (null: {@code kiln.compose.boot-test}, false by default).
     */
    public String submit(Blueprint blueprint, String commit, OutputType type, String typeName, long size, int test,
            Boolean bootTest) {
        String uuid = UUID.randomUUID().toString();
        ResultsDir results = results(uuid);
        Instant now = Instant.now();
        ComposeResults.create(results, blueprint, commit, type, test,
                Boolean.TRUE.equals(bootTest) || bootTest == null && bootTestByDefault, now);
        Map<String, Object> vars = new HashMap<>();
        vars.put("type", type.id());
        vars.put(ComposeProcess.TYPE_NAME, typeName);
        vars.put("blueprint", blueprint.name());
        vars.put("version", blueprint.version());
        vars.put("test", test);
        vars.put("size", size);
        vars.put("bootTest", bootTest != null ? bootTest : bootTestByDefault);
        vars.put("priority", ComposeStart.priority(now.toEpochMilli())); // older composes first
        vars.put("prepared", true); // checked above and in the controller, results/<UUID>/ made: no prepare step
        try { // its commit wakes the loop of the first task (StepSignals)
            runtime.startProcessInstanceByKey(ComposeProcess.KEY, uuid, vars);
        } catch (RuntimeException e) { // no process, no compose: no results directory left without one
            results.deleteAll();
            throw e;
        }
        return uuid;
    }

    /**
     * Waits (bounded) until the compose has passed depsolve; answers the failure message if it failed there.
     */
    public Optional<String> awaitDepsolve(String uuid, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            ProcessInstance pi = instance(uuid);
            if (pi == null) {
                HistoricProcessInstance h = historic(uuid);
                if (h != null && ComposeProcess.END_FAILED.equals(h.getEndActivityId())) {
                    HistoricVariableInstance msg = history.createHistoricVariableInstanceQuery()
                            .processInstanceId(h.getId()).variableName("errorMessage").singleResult();
                    return Optional.of(msg == null ? "compose failed" : String.valueOf(msg.getValue()));
                }
                return Optional.empty();
            }
            ExternalTask t = externalTasks.createExternalTaskQuery().processInstanceId(pi.getId()).singleResult();
            if (t != null && !t.getTopicName().equals(PrepareStep.TOPIC) && !t.getTopicName().equals("depsolve")) {
                return Optional.empty();
            }
            if (runtime.createIncidentQuery().processInstanceId(pi.getId()).count() > 0) {
                return Optional.empty();
            }
            Thread.sleep(25);
        }
        return Optional.empty();
    }

    /**
     * The running instance of a compose. An instance started through the engine's API may share a business key with
     * another: the oldest one is the compose, so that no duplicate can make a Weldr route fail.
     */
    private ProcessInstance instance(String uuid) {
        HistoricProcessInstance first = historic(uuid);
        return first == null ? null : runtime.createProcessInstanceQuery().processInstanceId(first.getId()).singleResult();
    }

    private HistoricProcessInstance historic(String uuid) {
        return history.createHistoricProcessInstanceQuery().processDefinitionKey(ComposeProcess.KEY)
                .processInstanceBusinessKey(uuid).orderByProcessInstanceStartTime().asc().listPage(0, 1)
                .stream().findFirst().orElse(null);
    }

    /** One compose, or empty when there is none of that UUID. */
    public Optional<Compose> get(String uuid) {
        if (!ResultsDir.isUuid(uuid)) {
            return Optional.empty();
        }
        return list(Set.of(uuid)).stream().findFirst();
    }

    /** Every compose (or those of {@code only}), oldest first, with its status derived from the engine. */
    public List<Compose> list(Set<String> only) {
        return listing.list(only);
    }

    /** The newest {@code max} composes, newest first, each FAILED one with its reason. */
    public List<Overview> overview(int max) {
        return listing.overview(max);
    }

    /** Stops a WAITING or RUNNING compose (its processes killed) and removes it, as lorax did. */
    public void cancel(String uuid) {
        for (int attempt = 1; ; attempt++) {
            ProcessInstance pi = instance(uuid);
            if (pi == null) {
                break;
            }
            try {
                runtime.createMessageCorrelation(ComposeProcess.CANCEL_MESSAGE).processInstanceId(pi.getId()).correlate();
                break;
            } catch (OptimisticLockingException e) {
                // a worker completed or extended the same task in the same instant: read the instance again
                if (attempt == 10) {
                    throw e;
                }
            } catch (MismatchingMessageCorrelationException e) {
                break; // it ended (or reached its end) meanwhile: removing it is all that is left
            } catch (ProcessEnginePersistenceException e) {
                // on PostgreSQL, another node changing the instance in the same instant can fail the batch of
                // deletes (a foreign key of ACT_RU_EXECUTION, seen in ClusterTest): rolled back, read it again
                if (attempt == 10) {
                    throw e;
                }
                try {
                    Thread.sleep(50L * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
        workers.stopLocal(uuid, 30_000);
        remove(uuid);
    }

    /** Removes a FINISHED or FAILED compose: its process (an open incident's too), history and results. */
    public void delete(String uuid) {
        ProcessInstance pi = instance(uuid);
        if (pi != null) {
            runtime.deleteProcessInstance(pi.getId(), "compose deleted", true, true);
        }
        remove(uuid);
    }

    private void remove(String uuid) {
        for (HistoricProcessInstance h : history.createHistoricProcessInstanceQuery()
                .processDefinitionKey(ComposeProcess.KEY).processInstanceBusinessKey(uuid).list()) {
            history.deleteHistoricProcessInstanceIfExists(h.getId());
        }
        results(uuid).deleteAll();
    }

    /**
     * Results directories that no process instance owns (a submission that failed before its process started,
     * in a service killed at that moment) are removed at start; one younger than a minute may be a submission in
     * flight and is left. In the others, the temporary files of writes a kill interrupted are removed.
     */
    @EventListener
    void removeOrphans(ApplicationReadyEvent event) {
        Path dir = properties.resultsDir();
        if (!Files.isDirectory(dir)) {
            return;
        }
        long cutoff = System.currentTimeMillis() - 60_000;
        try (var dirs = Files.list(dir)) {
            for (Path d : dirs.toList()) {
                String uuid = d.getFileName().toString();
                if (ResultsDir.isUuid(uuid) && d.toFile().lastModified() < cutoff && historic(uuid) == null) {
                    log.info("Removing results/{}: no compose owns it", uuid);
                    results(uuid).deleteAll();
                } else if (ResultsDir.isUuid(uuid)) {
                    results(uuid).removeUnfinishedWrites();
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cannot clean {}: {}", dir, e.toString());
        }
    }

    /** The step a compose is at (its current external task's topic), or null when it has ended. */
    public String currentStep(String uuid) {
        ProcessInstance pi = instance(uuid);
        if (pi == null) {
            return null;
        }
        ExternalTask t = externalTasks.createExternalTaskQuery().processInstanceId(pi.getId()).singleResult();
        return t == null ? null : t.getTopicName();
    }
}
