package dev.kiln.engine;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.operaton.bpm.engine.ProcessEngine;
import org.operaton.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.operaton.bpm.engine.impl.cfg.ProcessEnginePlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Nodes that start together on one PostgreSQL database start one after the other: before the engine creates or
 * upgrades its schema, a node takes a PostgreSQL advisory lock (a session lock, on a connection of its own) and
 * holds it until it is ready, so the schema, the admin user and the BPMN deployment are made by exactly one node
 * (without it, one of two nodes starting on an empty database dies in {@code ENGINE-03017}). A node that dies
 * while holding it releases it with its connection. On H2 (one process) there is nothing to order.
 */
@Component
class StartupLock implements ProcessEnginePlugin, ApplicationListener<ApplicationEvent> {

    /** The advisory lock's key: "kiln" in ASCII, so that other users of the database can tell it apart. */
    static final long KEY = 0x6b696c6eL;
    private static final Logger log = LoggerFactory.getLogger(StartupLock.class);
    private final DataSource dataSource;
    private Connection held;

    StartupLock(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public synchronized void preInit(ProcessEngineConfigurationImpl configuration) {
        try {
            Connection c = dataSource.getConnection();
            if (!"PostgreSQL".equals(c.getMetaData().getDatabaseProductName())) {
                c.close();
                return;
            }
            long t0 = System.nanoTime();
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_lock(" + KEY + ")");
            }
            held = c;
            long waited = (System.nanoTime() - t0) / 1_000_000;
            log.info("Start-up lock of the engine database taken{}", waited > 100 ? " after " + waited + " ms" : "");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach the engine database: " + e.getMessage(), e);
        }
    }

    @Override
    public void postInit(ProcessEngineConfigurationImpl configuration) {
    }

    @Override
    public void postProcessEngineBuild(ProcessEngine engine) {
    }

    @Override
    public void onApplicationEvent(ApplicationEvent event) {
        if (event instanceof ApplicationReadyEvent || event instanceof ApplicationFailedEvent) {
            release();
        }
    }

    private synchronized void release() {
        if (held == null) {
            return;
        }
        try (Connection c = held; Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_unlock(" + KEY + ")");
        } catch (SQLException e) {
            log.warn("releasing the start-up lock: {} (closing its connection releases it)", e.getMessage());
        }
        held = null;
    }
}
