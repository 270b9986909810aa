package dev.kiln.testing;

import org.springframework.core.Ordered;
import org.springframework.test.annotation.DirtiesContext.HierarchyMode;
import org.springframework.test.context.TestContext;
import org.springframework.test.context.TestExecutionListener;

/**
 * Closes each test class's Spring context when the class ends, so that one service runs at a time. No context is
 * shared (each class configures a state directory of its own), and a kept one would go on running its service
 * (worker loops polling the engine, heartbeats) for the rest of the run: 2.6% of a core each, measured.
 *
 * <p>It closes the context after its class, before the next class starts. Bounding Spring's context cache to one
 * does not do that: the cache evicts (and closes) the old context only after the new one has started, and the old
 * engine, closing, unregisters the process engine named {@code default} that the new one had registered under the
 * same name, leaving {@code /engine-rest} with none. Registered in {@code META-INF/spring.factories}.
 */
public final class OneServiceAtATime implements TestExecutionListener, Ordered {

    @Override
    public void afterTestClass(TestContext testContext) {
        if (testContext.hasApplicationContext()) {
            testContext.markApplicationContextDirty(HierarchyMode.EXHAUSTIVE);
        }
    }

    /** After Spring's own listeners have run their after-class steps (they run in reverse order). */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
