package dev.kiln.source;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The OpenPGP keys a blueprint's {@code repositories} give inline, read by the same parser that checks Kiln's own
 * sources: an armored block that parses to no public key is refused when the blueprint is pushed or composed, not
 * found out by apt in the image.
 */
public final class BlueprintKeys {

    private BlueprintKeys() {
    }

    /** One message per key that holds no readable public key; empty when every key is fine. */
    public static List<String> problems(Map<String, Object> customizations) {
        List<String> out = new ArrayList<>();
        if (!(customizations.get("repositories") instanceof List<?> repos)) {
            return out;
        }
        for (Object o : repos) {
            if (o instanceof Map<?, ?> r && r.get("gpgkeys") instanceof List<?> keys) {
                for (Object k : keys) {
                    if (k instanceof String armored && armored.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----")
                            && !readable(armored)) {
                        out.add("repositories.gpgkeys: the key block of repository " + r.get("id")
                                + " holds no readable OpenPGP public key");
                    }
                }
            }
        }
        return out;
    }

    private static boolean readable(String armored) {
        try {
            return OpenPgpVerifier.fromKeyrings(List.of(armored.getBytes(StandardCharsets.US_ASCII))).keyCount() > 0;
        } catch (RuntimeException e) { // SourceException among them
            return false;
        }
    }
}
