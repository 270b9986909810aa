package dev.kiln.engine;

import java.util.Map;
import org.operaton.bpm.engine.IdentityService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Cockpit's {@code admin} login can never be locked for good. The engine would lock a user permanently after ten
 * wrong passwords (from anyone, surviving restarts); Kiln sets no such limit (the engine's growing delay after
 * each failure, up to a minute, still slows guessing), clears a lock an earlier version left at every start, and
 * answers {@code POST /api/kiln/admin/unlock} ({@code kiln admin unlock}) for the socket's users.
 */
@RestController
class AdminLogin {

    private static final Logger log = LoggerFactory.getLogger(AdminLogin.class);
    private final IdentityService identity;

    AdminLogin(IdentityService identity) {
        this.identity = identity;
    }

    @EventListener
    void ready(ApplicationReadyEvent event) {
        unlock();
    }

    @PostMapping(value = "/api/kiln/admin/unlock", produces = MediaType.APPLICATION_JSON_VALUE)
    Map<String, Object> unlock() {
        identity.unlockUser(EngineEnvironment.ADMIN_USER);
        log.info("Failed logins of '{}' cleared", EngineEnvironment.ADMIN_USER);
        return Map.of("status", true, "user", EngineEnvironment.ADMIN_USER);
    }
}
