package dev.kiln.api.weldr;

import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.source.Distros;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

/** Request checks shared by the controllers: API strings, name lists, branch, format, paging and bodies. */
final class WeldrRequests {

    /** lorax's VALID_API_STRING. */
    private static final Pattern API_STRING = Pattern.compile("[a-zA-Z0-9_,.:+*-]+");
    static final MediaType TOML = MediaType.parseMediaType("text/x-toml");
    static final int MAX_BODY = 1024 * 1024;

    /** A posted document: its text and whether it is TOML (else JSON). */
    record Body(String text, boolean toml) {
    }

    /** Validated paging arguments. */
    record Page(int offset, int limit) {
        <T> List<T> apply(List<T> items) {
            int from = Math.min(offset, items.size());
            return items.subList(from, (int) Math.min((long) from + limit, items.size()));
        }

        /** {@code {key: items, total, offset, limit}}, offset and limit echoed as asked (lorax). */
        Map<String, Object> body(String key, List<?> items, int total) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put(key, items);
            body.put("total", total);
            body.put("offset", offset);
            body.put("limit", limit);
            return body;
        }
    }

    private WeldrRequests() {
    }

    static void requireV1(String version) {
        if (!version.equals("v1")) {
            throw WeldrException.notFound();
        }
    }

    /** A comma-separated list of names from a path, each checked before it can reach a file name. */
    static List<String> names(String list) {
        List<String> names = Arrays.stream(list.split(",", -1)).map(String::strip).toList();
        names.forEach(BlueprintNames::require);
        return names;
    }

    /** The {@code ?distro=} of projects, modules, depsolve, freeze and compose types: known, or DistroError. */
    static String distro(String distro) {
        return Distros.resolve(distro).orElseThrow(() -> new WeldrException("DistroError", Distros.invalid(distro)));
    }

    static String branch(String branch) {
        return BlueprintNames.requireBranch(branch == null || branch.isEmpty() ? "master" : branch);
    }

    /** True for {@code format=toml}, false for json or absent. */
    static boolean toml(String format) {
        if (format == null || format.equals("json")) {
            return false;
        }
        if (format.equals("toml")) {
            return true;
        }
        throw new WeldrException("InvalidChars", API_STRING.matcher(format).matches()
                ? "Invalid format argument: " + format : "Invalid characters in format argument");
    }

    static Page page(String offset, String limit) {
        try {
            int o = offset == null ? 0 : Integer.parseInt(offset);
            int l = limit == null ? 20 : Integer.parseInt(limit);
            if (o < 0 || l < 0) {
                throw new NumberFormatException();
            }
            return new Page(o, l);
        } catch (NumberFormatException e) {
            throw new WeldrException("BadLimitOrOffset", "BadLimitOrOffset");
        }
    }

    /**
     * Reads a posted blueprint or source: TOML ({@code text/x-toml}) or JSON ({@code application/json}),
     * at most 1 MiB, valid UTF-8, not empty. Failures carry {@code errorId}.
     */
    static Body body(HttpServletRequest request, String errorId, String what) throws IOException {
        String header = request.getContentType();
        if (header == null || header.isBlank()) {
            throw new WeldrException(errorId, "missing Content-Type header");
        }
        MediaType type;
        try {
            type = MediaType.parseMediaType(header);
        } catch (InvalidMediaTypeException e) {
            throw new WeldrException(errorId, "Invalid Content-Type header: " + header);
        }
        boolean toml = TOML.equalsTypeAndSubtype(type);
        if (!toml && !MediaType.APPLICATION_JSON.equalsTypeAndSubtype(type)) {
            throw new WeldrException(errorId,
                    "Unsupported Content-Type " + type + ", use text/x-toml or application/json");
        }
        byte[] bytes = upTo(request, MAX_BODY,
                () -> new WeldrException(errorId, what + " is larger than " + MAX_BODY + " bytes"));
        if (bytes.length == 0 || new String(bytes, StandardCharsets.ISO_8859_1).isBlank()) {
            throw new WeldrException(errorId, "Missing " + what.toLowerCase());
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            return new Body(text, toml);
        } catch (CharacterCodingException e) {
            throw new WeldrException(errorId, what + " is not valid UTF-8");
        }
    }

    /** The request's body, refused with {@code tooLarge} past {@code max} bytes (read no further than that). */
    static byte[] upTo(HttpServletRequest request, int max, Supplier<WeldrException> tooLarge) throws IOException {
        byte[] bytes;
        try (InputStream in = request.getInputStream()) {
            bytes = in.readNBytes(max + 1);
        }
        if (bytes.length > max) {
            throw tooLarge.get();
        }
        return bytes;
    }
}
