package dev.kiln.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.operaton.bpm.engine.ExternalTaskService;
import org.operaton.bpm.engine.HistoryService;
import org.operaton.bpm.engine.RuntimeService;
import org.operaton.bpm.engine.externaltask.ExternalTask;
import org.operaton.bpm.engine.externaltask.LockedExternalTask;
import org.operaton.bpm.engine.history.HistoricActivityInstance;
import org.operaton.bpm.engine.test.Deployment;
import org.operaton.bpm.engine.test.junit5.ProcessEngineExtension;
import org.operaton.bpm.model.bpmn.Bpmn;
import org.operaton.bpm.model.bpmn.BpmnModelInstance;
import org.operaton.bpm.model.bpmn.instance.ServiceTask;
import org.operaton.bpm.model.bpmn.instance.bpmndi.BpmnShape;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code bpmn/compose.bpmn} deployed into a real engine and driven through each of its three endings. */
class ComposeBpmnTest {

    @RegisterExtension
    static ProcessEngineExtension engine =
            ProcessEngineExtension.builder().configurationResource("unit-engine.cfg.xml").build();

    private static final String WORKER = "test-worker";

    @Test
    void everyTopicIsAnExternalTaskInPipelineOrderAndEveryElementIsDrawn() {
        BpmnModelInstance model = Bpmn.readModelFromStream(
                getClass().getClassLoader().getResourceAsStream(ComposeProcess.RESOURCE));
        List<String> topics = model.getModelElementsByType(ServiceTask.class).stream()
                .map(ServiceTask::getOperatonTopic).toList();
        // Kiln's steps, in order; steps a user adds (served by workers of their own) may come between them
        assertThat(topics).containsSubsequence(ComposeProcess.TOPICS);
        assertThat(model.getModelElementsByType(ServiceTask.class))
                .allSatisfy(t -> assertThat(t.getOperatonType()).isEqualTo("external"));
        List<String> drawn = model.getModelElementsByType(BpmnShape.class).stream()
                .map(s -> s.getBpmnElement().getId()).toList();
        assertThat(drawn).containsAll(ComposeProcess.TOPICS)
                .contains(ComposeProcess.END_FINISHED, ComposeProcess.END_FAILED, ComposeProcess.END_CANCELLED);
    }

    @Test
    @Deployment(resources = ComposeProcess.RESOURCE)
    void allStepsDoneEndsFinishedAndTheBootTestRunsOnlyWhenAskedFor() {
        for (boolean bootTest : List.of(false, true)) {
            String uuid = bootTest ? "1b4e28ba-2fa1-11d2-883f-0016d3cca428" : "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
            String id = engine.getRuntimeService().startProcessInstanceByKey(ComposeProcess.KEY, uuid,
                    Map.of("type", "qcow2", "priority", 1L, "bootTest", bootTest)).getId();
            List<String> done = new ArrayList<>();
            for (var t = next(id); t != null; t = next(id)) { // every step, a user's own included, done in turn
                LockedExternalTask task = lockOne(t.getTopicName());
                assertThat(task.getBusinessKey()).isEqualTo(uuid);
                engine.getExternalTaskService().complete(task.getId(), WORKER);
                done.add(task.getTopicName());
            }
            List<String> expected = ComposeProcess.TOPICS.stream().filter(t -> bootTest || !t.equals("boot-test")).toList();
            assertThat(done).containsSubsequence(expected);
            assertThat(done.contains("boot-test")).isEqualTo(bootTest);
            assertThat(endEvents(id)).containsExactly(ComposeProcess.END_FINISHED);
        }
        // a compose started before the step existed has no bootTest variable: it goes straight to finalize
        String id = start("1b4e28ba-2fa1-11d2-883f-0016d3cca429");
        for (String topic : List.of("prepare", "depsolve", "freeze", "kickstart", "build", "finalize")) {
            engine.getExternalTaskService().complete(lockOne(topic).getId(), WORKER);
        }
        assertThat(endEvents(id)).containsExactly(ComposeProcess.END_FINISHED);
    }

    @Test
    @Deployment(resources = ComposeProcess.RESOURCE)
    void bpmnErrorFromAStepEndsFailedWithTheReason() {
        String id = start("2b4e28ba-2fa1-11d2-883f-0016d3cca427");
        engine.getExternalTaskService().complete(lockOne("prepare").getId(), WORKER);
        engine.getExternalTaskService().complete(lockOne("depsolve").getId(), WORKER);
        engine.getExternalTaskService().handleBpmnError(lockOne("freeze").getId(), WORKER,
                ComposeProcess.ERROR_CODE, "no package named nosuchpkg");
        assertThat(endEvents(id)).containsExactly(ComposeProcess.END_FAILED);
        HistoryService history = engine.getHistoryService();
        assertThat(history.createHistoricVariableInstanceQuery().processInstanceId(id).variableName("errorMessage")
                .singleResult().getValue()).isEqualTo("no package named nosuchpkg");
    }

    @Test
    @Deployment(resources = ComposeProcess.RESOURCE)
    void cancelMessageStopsTheComposeWhereverItIs() {
        String id = start("3b4e28ba-2fa1-11d2-883f-0016d3cca427");
        engine.getExternalTaskService().complete(lockOne("prepare").getId(), WORKER);
        engine.getExternalTaskService().complete(lockOne("depsolve").getId(), WORKER);
        engine.getRuntimeService().createMessageCorrelation(ComposeProcess.CANCEL_MESSAGE)
                .processInstanceBusinessKey("3b4e28ba-2fa1-11d2-883f-0016d3cca427").correlate();
        assertThat(endEvents(id)).containsExactly(ComposeProcess.END_CANCELLED);
        assertThat(engine.getExternalTaskService().createExternalTaskQuery().count()).isZero();
    }

    @Test
    @Deployment(resources = ComposeProcess.RESOURCE)
    void aStartWithoutKeyOrPriorityGetsBoth() {
        RuntimeService runtime = engine.getRuntimeService();
        var started = runtime.startProcessInstanceByKey(ComposeProcess.KEY, Map.of("blueprint", "site", "type", "tar"));
        assertThat(started.getBusinessKey()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(runtime.getVariable(started.getId(), "priority")).isInstanceOf(Long.class);
        LockedExternalTask prepare = lockOne("prepare");
        assertThat(prepare.getBusinessKey()).isEqualTo(started.getBusinessKey());
        assertThat(prepare.getPriority()).isPositive();
        // a start the Weldr API prepared skips the step
        var weldr = runtime.startProcessInstanceByKey(ComposeProcess.KEY, "4b4e28ba-2fa1-11d2-883f-0016d3cca427",
                Map.of("type", "tar", "priority", 2L, "prepared", true));
        assertThat(next(weldr.getId()).getTopicName()).isEqualTo("depsolve");
        var keyed = runtime.startProcessInstanceByKey(ComposeProcess.KEY, "not-a-uuid", Map.of("priority", 7L));
        assertThat(keyed.getBusinessKey()).isEqualTo("not-a-uuid"); // left alone: the workers refuse it
        assertThat(runtime.getVariable(keyed.getId(), "priority")).isEqualTo(7L);
    }

    private String start(String uuid) {
        RuntimeService runtime = engine.getRuntimeService();
        return runtime.startProcessInstanceByKey(ComposeProcess.KEY, uuid, Map.of("type", "tar", "priority", 1L)).getId();
    }

    /** The external task a process instance waits at, or null when it has none. */
    private ExternalTask next(String processInstanceId) {
        return engine.getExternalTaskService().createExternalTaskQuery().processInstanceId(processInstanceId)
                .singleResult();
    }

    private LockedExternalTask lockOne(String topic) {
        ExternalTaskService tasks = engine.getExternalTaskService();
        List<LockedExternalTask> locked = tasks.fetchAndLock(10, WORKER).topic(topic, 60_000).execute();
        assertThat(locked).as("tasks on topic %s", topic).hasSize(1);
        return locked.get(0);
    }

    private List<String> endEvents(String processInstanceId) {
        assertThat(engine.getRuntimeService().createProcessInstanceQuery().processInstanceId(processInstanceId)
                .count()).isZero();
        return engine.getHistoryService().createHistoricActivityInstanceQuery().processInstanceId(processInstanceId)
                .activityType("noneEndEvent").list().stream().map(HistoricActivityInstance::getActivityId)
                .filter(a -> !a.equals("pipeline_end")).toList();
    }
}
