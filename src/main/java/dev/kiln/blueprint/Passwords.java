package dev.kiln.blueprint;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.codec.digest.Sha2Crypt;

/**
 * Plain-text user passwords in a blueprint become SHA-512 crypt(3) hashes before the blueprint is stored or
 * composed (as osbuild-composer does on save), so no clear password reaches git, {@code results/}, the plan, logs
 * or process variables.
 */
public final class Passwords {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private Passwords() {
    }

    /** The blueprint with every plain user password replaced by its hash; the same blueprint when there is none. */
    @SuppressWarnings("unchecked")
    public static Blueprint hashPlain(Blueprint blueprint) {
        if (!(blueprint.customizations().get("user") instanceof List<?> users)
                || users.stream().noneMatch(u -> u instanceof Map<?, ?> m && isPlain(m.get("password")))) {
            return blueprint;
        }
        List<Object> hashed = new ArrayList<>();
        for (Object u : users) {
            if (u instanceof Map<?, ?> m && isPlain(m.get("password"))) {
                Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) m);
                copy.put("password", hash((String) m.get("password")));
                hashed.add(copy);
            } else {
                hashed.add(u);
            }
        }
        Map<String, Object> customizations = new LinkedHashMap<>(blueprint.customizations());
        customizations.put("user", hashed);
        Map<String, Object> data = new LinkedHashMap<>(blueprint.data());
        data.put("customizations", customizations);
        return new Blueprint(data);
    }

    static boolean isPlain(Object password) {
        return password instanceof String s && !s.isEmpty() && !s.startsWith("$");
    }

    /** {@code $6$<16 random salt characters>$<hash>}, what {@code mkpasswd -m sha-512} writes. */
    static String hash(String password) {
        StringBuilder salt = new StringBuilder("$6$");
        for (int i = 0; i < 16; i++) {
            salt.append(SALT_CHARS.charAt(RANDOM.nextInt(SALT_CHARS.length())));
        }
        return Sha2Crypt.sha512Crypt(password.getBytes(StandardCharsets.UTF_8), salt.toString());
    }
}
