package dev.kiln.pipeline;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.operaton.bpm.engine.HistoryService;

/**
 * Which process instance is the compose of a UUID: the first started with it as business key. A later one (an
 * engine start that reused a compose's UUID) must not touch that compose's results.
 */
final class FirstInstances {

    private final HistoryService history;
    /** Instances already known to be the first of their key: once per instance and node, the answer never changes. */
    private final Map<String, Boolean> confirmed = new ConcurrentHashMap<>();

    FirstInstances(HistoryService history) {
        this.history = history;
    }

    boolean isFirst(String instanceId, String uuid) {
        if (confirmed.containsKey(instanceId)) {
            return true;
        }
        boolean first = history.createHistoricProcessInstanceQuery().processDefinitionKey(ComposeProcess.KEY)
                .processInstanceBusinessKey(uuid).orderByProcessInstanceStartTime().asc().listPage(0, 1).stream()
                .findFirst().map(h -> h.getId().equals(instanceId)).orElse(true);
        if (first) {
            if (confirmed.size() > 10_000) {
                confirmed.clear();
            }
            confirmed.put(instanceId, Boolean.TRUE);
        }
        return first;
    }
}
