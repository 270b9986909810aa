package dev.kiln.engine;

import dev.kiln.KilnProperties;
import java.lang.management.ManagementFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Tells the operator, once the service answers, where the API listens and where Cockpit's password is kept. */
@Component
class StartupReport {

    private static final Logger log = LoggerFactory.getLogger(StartupReport.class);
    private final KilnProperties properties;

    StartupReport(KilnProperties properties) {
        this.properties = properties;
    }

    @EventListener
    void ready(ApplicationReadyEvent event) {
        int port = event.getApplicationContext() instanceof WebServerApplicationContext web
                ? web.getWebServer().getPort() : properties.api().port();
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        log.info("Kiln ready in {} ms: Weldr API on {} and http://127.0.0.1:{}/api/status", uptime,
                properties.api().socket().isBlank() ? "(no socket)" : properties.api().socket(), port);
        log.info("Cockpit: http://127.0.0.1:{}/operaton/app/ as user '{}', password in {}", port,
                EngineEnvironment.ADMIN_USER,
                properties.stateDir().toAbsolutePath().resolve("engine").resolve(EngineEnvironment.PASSWORD_FILE));
    }
}
