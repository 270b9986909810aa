package dev.kiln.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.cfg.StandaloneInMemProcessEngineConfiguration;
import org.operaton.bpm.model.bpmn.Bpmn;

/**
 * Every external task a committed transaction creates is signalled with its topic and the compose's test mode:
 * the first step of a started compose, the next one when a step is completed, the topic of an edited BPMN, none
 * known for a topic the BPMN computes; nothing for a transaction that fails.
 */
class StepSignalsTest {

    static ProcessEngine engine;
    static final List<String> HEARD = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void up() {
        StepSignals signals = new StepSignals();
        signals.onTaskCreated((topic, test) -> HEARD.add(topic + "/" + test));
        ProcessEngineConfigurationImpl c = new StandaloneInMemProcessEngineConfiguration();
        c.setProcessEngineName("signals");
        c.setJdbcUrl("jdbc:h2:mem:kiln-signals;DB_CLOSE_DELAY=1000");
        c.setDatabaseSchemaUpdate("true");
        c.setJobExecutorActivate(false);
        c.setProcessEnginePlugins(List.of(signals));
        engine = c.buildProcessEngine();
        engine.getRepositoryService().createDeployment().addClasspathResource(ComposeProcess.RESOURCE)
                .addModelInstance("computed.bpmn", Bpmn.createExecutableProcess("computed").startEvent()
                        .serviceTask("step").operatonExternalTask("${where}").endEvent().done())
                .deploy();
    }

    @AfterAll
    static void down() {
        engine.close();
    }

    @Test
    void eachTaskCreatedIsSignalledWhenItsTransactionCommits() {
        HEARD.clear();
        String id = engine.getRuntimeService().startProcessInstanceByKey(ComposeProcess.KEY,
                "3b4e28ba-2fa1-11d2-883f-0016d3cca427", Map.of("type", "tar", "priority", 1L, "test", 2,
                        "prepared", true)).getId();
        assertThat(HEARD).containsExactly("depsolve/2");
        var task = engine.getExternalTaskService().fetchAndLock(1, "w").topic("depsolve", 10_000).execute().get(0);
        engine.getExternalTaskService().complete(task.getId(), "w");
        assertThat(HEARD).containsExactly("depsolve/2", "freeze/2");
        engine.getRuntimeService().deleteProcessInstance(id, "done");

        HEARD.clear();
        engine.getRuntimeService().startProcessInstanceByKey("computed", Map.of("where", "elsewhere"));
        assertThat(HEARD).containsExactly("null/0");
    }

    @Test
    void aTransactionThatFailsSignalsNothing() {
        HEARD.clear();
        // the computed topic cannot be resolved: the start fails after the task's activity began
        assertThatThrownBy(() -> engine.getRuntimeService().startProcessInstanceByKey("computed"));
        assertThat(HEARD).isEmpty();
    }
}
