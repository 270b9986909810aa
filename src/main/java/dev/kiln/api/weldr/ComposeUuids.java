package dev.kiln.api.weldr;

import dev.kiln.pipeline.ComposeService;
import dev.kiln.pipeline.ComposeService.Compose;
import dev.kiln.store.ResultsDir;
import java.util.Locale;
import java.util.regex.Pattern;

/** Compose UUIDs in request paths, as lorax checks them. */
final class ComposeUuids {

    private static final Pattern API_STRING = Pattern.compile("[a-zA-Z0-9_,.:+*-]+");

    private ComposeUuids() {
    }

    /** A canonical UUID, InvalidChars for text that is not even an API string; null (or an error) if not a UUID. */
    static String check(String uuid, boolean required) {
        if (!API_STRING.matcher(uuid).matches()) {
            throw new WeldrException("InvalidChars", "Invalid characters in API path");
        }
        if (!ResultsDir.isUuid(uuid)) {
            if (required) {
                throw new WeldrException("UnknownUUID", uuid + " is not a valid build uuid");
            }
            return null;
        }
        return uuid;
    }

    /** The compose {@code raw} names, or UnknownUUID. */
    static Compose require(ComposeService composes, String raw) {
        String uuid = check(raw.strip().toLowerCase(Locale.ROOT), true);
        return composes.get(uuid).orElseThrow(() -> new WeldrException("UnknownUUID", uuid + " is not a valid build uuid"));
    }
}
