package dev.kiln.api.weldr;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/status}. {@code backend} is {@code lorax-composer}: Kiln implements lorax's semantics, and clients
 * (the Python composer-cli in particular) choose their behaviour by this value. {@code build} names Kiln.
 */
@RestController
class StatusController {

    static final String BUILD = "kiln-" + version();

    @GetMapping("/api/status")
    Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("api", "1");
        status.put("backend", "lorax-composer");
        status.put("build", BUILD);
        status.put("db_supported", true);
        status.put("db_version", "0");
        status.put("schema_version", "0");
        status.put("msgs", List.of());
        return status;
    }

    private static String version() {
        String v = StatusController.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
