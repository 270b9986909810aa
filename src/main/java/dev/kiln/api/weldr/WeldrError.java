package dev.kiln.api.weldr;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/** One element of a Weldr {@code errors} list; {@code code} only on router-level errors (404, 405). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"id", "code", "msg"})
record WeldrError(String id, Integer code, String msg) {

    WeldrError(String id, String msg) {
        this(id, null, msg);
    }

    /** The envelope {@code {"status": false, "errors": [...]}}. */
    static Map<String, Object> envelope(WeldrError error) {
        return Map.of("status", false, "errors", List.of(error));
    }
}
