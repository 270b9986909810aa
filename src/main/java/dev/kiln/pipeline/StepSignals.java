package dev.kiln.pipeline;

import java.util.ArrayList;
import java.util.function.BiConsumer;
import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.delegate.DelegateExecution;
import org.operaton.bpm.engine.delegate.ExecutionListener;
import org.operaton.bpm.engine.impl.bpmn.behavior.ExternalTaskActivityBehavior;
import org.operaton.bpm.engine.impl.bpmn.parser.BpmnParse;
import org.operaton.bpm.engine.impl.bpmn.parser.BpmnParseListener;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.cfg.ProcessEnginePlugin;
import org.operaton.bpm.engine.impl.cfg.TransactionState;
import org.operaton.bpm.engine.impl.context.Context;
import org.operaton.bpm.engine.impl.interceptor.CommandContext;
import org.operaton.bpm.engine.impl.pvm.process.ActivityImpl;
import org.operaton.bpm.engine.impl.pvm.process.ScopeImpl;
import org.operaton.bpm.engine.impl.util.xml.Element;
import org.springframework.stereotype.Component;

/**
 * Tells this node's workers, the moment it is committed, that an external task was created here: every external
 * task of every deployed process (edited ones too) gets a built-in start listener at parse time, which, when the
 * transaction that reaches the task commits, hands its topic and the compose's test mode to {@link Workers}. So a
 * compose started by the Weldr API, {@code /engine-rest}, Tasklist or Cockpit, and a step completed by an in-process
 * or a remote worker, wakes the loop that takes the next task at once, without a query to find out which (a task
 * made on another node, or due again after a retry's backoff, is found by the loops' own polling).
 */
@Component
class StepSignals implements ProcessEnginePlugin {

    private volatile BiConsumer<String, Integer> receiver = (topic, test) -> { };

    /** Who hears of new tasks: a topic (null when the BPMN computes it) and the compose's test mode. */
    void onTaskCreated(BiConsumer<String, Integer> receiver) {
        this.receiver = receiver;
    }

    @Override
    public void preInit(ProcessEngineConfigurationImpl configuration) {
        if (configuration.getCustomPostBPMNParseListeners() == null) {
            configuration.setCustomPostBPMNParseListeners(new ArrayList<>());
        }
        configuration.getCustomPostBPMNParseListeners().add(new BpmnParseListener() {
            @Override
            public void parseServiceTask(Element element, ScopeImpl scope, ActivityImpl activity) {
                listen(element, activity);
            }

            @Override
            public void parseSendTask(Element element, ScopeImpl scope, ActivityImpl activity) {
                listen(element, activity);
            }

            @Override
            public void parseBusinessRuleTask(Element element, ScopeImpl scope, ActivityImpl activity) {
                listen(element, activity);
            }
        });
    }

    private void listen(Element element, ActivityImpl activity) {
        if (!(activity.getActivityBehavior() instanceof ExternalTaskActivityBehavior)) {
            return;
        }
        String written = element.attributeNS(BpmnParse.OPERATON_BPMN_EXTENSIONS_NS, "topic");
        String topic = written == null || written.contains("{") ? null : written; // an expression: known only later
        activity.addBuiltInListener(ExecutionListener.EVENTNAME_START, (ExecutionListener) execution -> {
            int mode = testMode(execution);
            CommandContext command = Context.getCommandContext();
            if (command != null) {
                command.getTransactionContext().addTransactionListener(TransactionState.COMMITTED,
                        committed -> receiver.accept(topic, mode));
            }
        });
    }

    /** The compose's test mode, 0 when it has none: a hint only, so an unreadable variable never fails the engine. */
    private static int testMode(DelegateExecution execution) {
        try {
            return execution.getVariable("test") instanceof Number n ? n.intValue() : 0;
        } catch (RuntimeException unreadable) {
            return 0;
        }
    }

    @Override
    public void postInit(ProcessEngineConfigurationImpl configuration) {
    }

    @Override
    public void postProcessEngineBuild(ProcessEngine engine) {
    }
}
