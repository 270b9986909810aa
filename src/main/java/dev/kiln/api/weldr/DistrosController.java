package dev.kiln.api.weldr;

import dev.kiln.source.Distros;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v1/distros/list}: the distributions Kiln builds ({@link Distros}; v0 has no such route). */
@RestController
class DistrosController {

    @GetMapping("/api/{version:v[01]}/distros/list")
    Map<String, Object> list(@PathVariable String version) {
        WeldrRequests.requireV1(version);
        return Map.of("distros", Distros.names());
    }
}
