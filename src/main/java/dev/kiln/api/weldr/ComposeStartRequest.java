package dev.kiln.api.weldr;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.blueprint.Customizations;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.util.InvalidMimeTypeException;

/**
 * The body of {@code POST /compose} (spec §1.5), read as lorax reads it: JSON only (a body not declared JSON is no
 * body, which also keeps cross-site form posts out), the blueprint's name and branch in their grammar, the type's
 * name, and Kiln's range checks of {@code size} and {@code boot_test}; uploads and ostree refused.
 *
 * @param name     the blueprint's name
 * @param branch   its branch, empty for the default
 * @param type     the compose type's name as given
 * @param size     the image size asked for, bytes (0: what the tree needs)
 * @param test     lorax's test mode: 0, 1 (fail) or 2 (finish without building)
 * @param bootTest whether to boot the image before it finishes; null: the service's default
 */
record ComposeStartRequest(String name, String branch, String type, long size, int test, Boolean bootTest) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static ComposeStartRequest parse(HttpServletRequest request, String test) throws IOException {
        int testMode = 0;
        if (test != null) {
            testMode = switch (test) {
                case "1" -> 1;
                case "2" -> 2;
                default -> throw new WeldrException("BuildFailed", "test must be 1 or 2");
            };
        }
        MediaType contentType;
        try {
            contentType = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (InvalidMimeTypeException e) {
            contentType = null;
        }
        if (contentType == null || !MediaType.APPLICATION_JSON.equalsTypeAndSubtype(contentType)) {
            // as lorax (Flask's get_json): a body that is not declared JSON is no body; a web page cannot post JSON
            // to another origin without a preflight, so this also keeps cross-site form posts out
            throw new WeldrException("MissingPost", "Missing POST body: Content-Type must be application/json");
        }
        JsonNode body;
        try (InputStream in = request.getInputStream()) {
            byte[] bytes = in.readNBytes(WeldrRequests.MAX_BODY + 1);
            if (bytes.length == 0 || bytes.length > WeldrRequests.MAX_BODY) {
                throw new WeldrException("MissingPost", bytes.length == 0 ? "Missing POST body" : "POST body too large");
            }
            body = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new WeldrException("MissingPost", "Missing POST body: not JSON (" + e.getOriginalMessage() + ")");
        }
        if (body == null || !body.isObject()) {
            throw new WeldrException("MissingPost", "Missing POST body");
        }
        List<WeldrError> errors = new ArrayList<>();
        JsonNode nameNode = body.get("blueprint_name");
        JsonNode typeNode = body.get("compose_type");
        String name = nameNode == null || nameNode.isNull() ? null : nameNode.asText();
        String typeName = typeNode == null || typeNode.isNull() ? null : typeNode.asText();
        String branch = body.path("branch").asText("");
        if (name != null && !BlueprintNames.isValid(name)) {
            errors.add(new WeldrError("InvalidChars", "Invalid characters in API path"));
        }
        if (!branch.isEmpty() && !BlueprintNames.isValidBranch(branch)) {
            errors.add(new WeldrError("InvalidChars", "Invalid characters in branch argument"));
        }
        if (name == null) {
            errors.add(new WeldrError("UnknownBlueprint", "No 'blueprint_name' in the JSON request"));
        }
        if (typeName == null) {
            errors.add(new WeldrError("BadComposeType", "No 'compose_type' in the JSON request"));
        }
        if (!errors.isEmpty()) {
            throw new MultiError(errors);
        }
        long size = 0;
        if (body.hasNonNull("size")) {
            if (!body.get("size").isIntegralNumber() || !body.get("size").canConvertToLong()
                    || body.get("size").asLong() < 0 || body.get("size").asLong() > Customizations.MAX_SIZE) {
                throw new WeldrException("BuildFailed", "'size' must be a number of bytes from 0 to 16 TiB");
            }
            size = body.get("size").asLong();
        }
        if (body.hasNonNull("upload")) {
            throw new WeldrException("UploadError", "Kiln does not upload images; download them with compose image");
        }
        if (body.path("ostree").path("ref").asText("").length() > 0) {
            throw new WeldrException("BuildFailed", "ostree composes are not supported");
        }
        Boolean bootTest = null; // Kiln's own field: boot the image in QEMU before the compose finishes
        if (body.hasNonNull("boot_test")) {
            if (!body.get("boot_test").isBoolean()) {
                throw new WeldrException("BuildFailed", "'boot_test' must be true or false");
            }
            bootTest = body.get("boot_test").asBoolean();
        }
        return new ComposeStartRequest(name, branch, typeName, size, testMode, bootTest);
    }

    /** Several errors in one envelope (lorax collects them, InvalidChars first). */
    static final class MultiError extends RuntimeException {
        final List<WeldrError> errors;

        MultiError(List<WeldrError> errors) {
            super(errors.get(0).msg());
            this.errors = errors.stream().sorted((a, b) -> Boolean.compare(!a.id().equals("InvalidChars"),
                    !b.id().equals("InvalidChars"))).toList();
        }
    }
}
