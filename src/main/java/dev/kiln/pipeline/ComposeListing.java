package dev.kiln.pipeline;

import dev.kiln.output.OutputType;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.pipeline.ComposeService.Overview;
import dev.kiln.store.ResultsDir;
import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.operaton.bpm.engine.history.HistoricProcessInstance;
import org.operaton.bpm.engine.history.HistoricVariableInstance;
import org.operaton.bpm.engine.runtime.Incident;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composes as the engine knows them, their status derived from it: a running process with an open incident is
 * FAILED; one whose current task is a locked {@code build} or any step after it is RUNNING, one before it WAITING;
 * an ended one is FINISHED or FAILED by its end event. Instances that are not composes are left out (and logged once).
 */
final class ComposeListing {

    private static final Logger log = LoggerFactory.getLogger(ComposeListing.class);
    private static final Set<String> BEFORE_BUILD = Set.of(PrepareStep.TOPIC, "depsolve", "freeze", "kickstart");

    private final RuntimeService runtime;
    private final HistoryService history;
    private final ExternalTaskService externalTasks;
    private final Function<String, ResultsDir> resultsOf;
    private final Set<String> ignored = ConcurrentHashMap.newKeySet();
    /**
     * Ended composes, by process instance: an ended instance no longer changes, so a listing of a thousand composes
     * asks the engine for their variables and reads their {@code times.toml} once, not at every call.
     */
    private final Map<String, Compose> ended = new ConcurrentHashMap<>();

    ComposeListing(RuntimeService runtime, HistoryService history, ExternalTaskService externalTasks,
            Function<String, ResultsDir> resultsOf) {
        this.runtime = runtime;
        this.history = history;
        this.externalTasks = externalTasks;
        this.resultsOf = resultsOf;
    }

    /** Every compose (or those of {@code only}), oldest first, with its status derived from the engine. */
    List<Compose> list(Set<String> only) {
        List<HistoricProcessInstance> instances = only == null
                ? history.createHistoricProcessInstanceQuery().processDefinitionKey(ComposeProcess.KEY)
                        .orderByProcessInstanceStartTime().asc().list()
                : history.createHistoricProcessInstanceQuery().processDefinitionKey(ComposeProcess.KEY)
                        .processInstanceBusinessKeyIn(only.toArray(String[]::new))
                        .orderByProcessInstanceStartTime().asc().list();
        instances = composesOnly(instances);
        if (instances.isEmpty()) {
            return List.of();
        }
        if (only == null && ended.size() > instances.size()) { // deleted composes' entries go
            Set<String> all = new HashSet<>();
            instances.forEach(h -> all.add(h.getId()));
            ended.keySet().retainAll(all);
        }
        // an ended compose never changes: the engine is asked only about the others
        String[] ids = instances.stream().filter(h -> h.getEndTime() == null || !ended.containsKey(h.getId()))
                .map(HistoricProcessInstance::getId).toArray(String[]::new);
        Map<String, ExternalTask> current = new HashMap<>();
        Map<String, Incident> incidents = new HashMap<>();
        Map<String, Map<String, Object>> vars = new HashMap<>();
        if (ids.length > 0) {
            boolean running = instances.stream().anyMatch(h -> h.getEndTime() == null);
            if (running) {
                for (ExternalTask t : externalTasks.createExternalTaskQuery().processInstanceIdIn(ids).list()) {
                    current.put(t.getProcessInstanceId(), t);
                }
                Set<String> idSet = Set.of(ids);
                var incidentQuery = runtime.createIncidentQuery();
                for (Incident i : (ids.length == 1 ? incidentQuery.processInstanceId(ids[0]) : incidentQuery).list()) {
                    if (idSet.contains(i.getProcessInstanceId())) {
                        incidents.putIfAbsent(i.getProcessInstanceId(), i);
                    }
                }
            }
            for (HistoricVariableInstance v : history.createHistoricVariableInstanceQuery().processInstanceIdIn(ids)
                    .variableNameIn("type", ComposeProcess.TYPE_NAME, "blueprint", "version", "errorMessage")
                    .disableCustomObjectDeserialization().list()) {
                vars.computeIfAbsent(v.getProcessInstanceId(), k -> new HashMap<>()).put(v.getName(), v.getValue());
            }
        }
        Date now = new Date();
        List<Compose> out = new ArrayList<>(instances.size());
        for (HistoricProcessInstance h : instances) {
            Compose known = h.getEndTime() == null ? null : ended.get(h.getId());
            Compose c = known != null ? known : compose(h, current, incidents, vars, now);
            if (c == null) {
                continue;
            }
            if (known == null && h.getEndTime() != null) {
                ended.put(h.getId(), c);
            }
            out.add(c);
        }
        return out;
    }

    /** One compose as the engine and its results directory say; null for an instance that is none (or is going). */
    private Compose compose(HistoricProcessInstance h, Map<String, ExternalTask> current,
            Map<String, Incident> incidents, Map<String, Map<String, Object>> vars, Date now) {
        String status;
        ExternalTask at = current.get(h.getId());
        if (h.getEndTime() == null) {
            if (incidents.containsKey(h.getId())) {
                status = ComposeService.FAILED;
            } else if (at != null && (at.getTopicName().equals("build")
                    ? at.getLockExpirationTime() != null && at.getLockExpirationTime().after(now)
                    : !BEFORE_BUILD.contains(at.getTopicName()))) {
                // build holds a slot once locked; any step after it (boot-test, finalize, or one a user
                // added to the BPMN) is the compose running
                status = ComposeService.RUNNING;
            } else {
                status = ComposeService.WAITING;
            }
        } else if (ComposeProcess.END_FINISHED.equals(h.getEndActivityId())) {
            status = ComposeService.FINISHED;
        } else if (ComposeProcess.END_FAILED.equals(h.getEndActivityId())) {
            status = ComposeService.FAILED;
        } else {
            return null; // cancelled: being removed
        }
        Map<String, Object> v = vars.getOrDefault(h.getId(), Map.of());
        OutputType type = OutputType.byId(String.valueOf(v.get("type"))).orElse(null);
        if (type == null) {
            return null;
        }
        ResultsDir results = resultsOf.apply(h.getBusinessKey());
        long imageSize = 0;
        if (status.equals(ComposeService.FINISHED)) {
            File image = results.file(type.imageName()).toFile();
            imageSize = image.length();
        }
        Double started = status.equals(ComposeService.WAITING) ? null : results.times().get("started");
        Failure failure = null;
        if (status.equals(ComposeService.FAILED)) {
            Incident i = incidents.get(h.getId());
            failure = i != null ? Failure.ofIncident(i.getActivityId(), i.getIncidentMessage())
                    : Failure.ofError(v.get("errorMessage") == null ? null : String.valueOf(v.get("errorMessage")));
        }
        return new Compose(h.getBusinessKey(), status, String.valueOf(v.get("blueprint")),
                String.valueOf(v.get("version")), type, seconds(h.getStartTime()), started,
                h.getEndTime() == null ? null : seconds(h.getEndTime()), imageSize, h.getId(),
                at == null ? null : at.getTopicName(), v.get(ComposeProcess.TYPE_NAME) instanceof String n
                        && type.equals(OutputType.byName(n).orElse(null)) ? n : type.id(), failure);
    }

    /** The newest {@code max} composes, newest first, each FAILED one with its reason's short form. */
    List<Overview> overview(int max) {
        List<Compose> all = list(null);
        List<Compose> newest = new ArrayList<>(all.subList(Math.max(0, all.size() - max), all.size()));
        Collections.reverse(newest);
        return newest.stream().map(c -> new Overview(c, c.failure() == null ? null
                : c.failure().step() + ": " + c.failure().reason())).toList();
    }

    /**
     * The instances that are composes: a UUID business key, the first instance of each key. Anything else that lives
     * in the engine (started through {@code /engine-rest} or Cockpit without a key, with a key that is not a UUID, or
     * with one that is already taken) is left out of every listing, and logged once.
     */
    private List<HistoricProcessInstance> composesOnly(List<HistoricProcessInstance> instances) {
        List<HistoricProcessInstance> out = new ArrayList<>(instances.size());
        Set<String> keys = new HashSet<>();
        for (HistoricProcessInstance h : instances) {
            if (ResultsDir.isUuid(h.getBusinessKey()) && keys.add(h.getBusinessKey())) {
                out.add(h);
            } else if (ignored.add(h.getId())) {
                log.warn("Process instance {} of {} is not a compose (business key {}): left out of the Weldr API",
                        h.getId(), ComposeProcess.KEY, h.getBusinessKey());
            }
        }
        return out;
    }

    private static Double seconds(Date d) {
        return d == null ? null : d.getTime() / 1000.0;
    }
}
