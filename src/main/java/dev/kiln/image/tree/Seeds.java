package dev.kiln.image.tree;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;

/** Digests that name things: cache keys, and the UUIDs an image derives from its compose's frozen content. */
public final class Seeds {

    private Seeds() {
    }

    /** The SHA-256 of {@code text}, in hex. */
    static String sha256(String text) {
        return HexFormat.of().formatHex(digest().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** A UUID (version 4 layout) made of the first 16 bytes of a digest. */
    public static UUID uuidOf(byte[] h) {
        h[6] = (byte) ((h[6] & 0x0f) | 0x40);
        h[8] = (byte) ((h[8] & 0x3f) | 0x80);
        String hex = HexFormat.of().formatHex(h, 0, 16);
        return UUID.fromString(hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20, 32));
    }

    /** A seed derived from the frozen set and the plan: the same compose gives the same file-system UUID. */
    static UUID of(String deps, String plan) {
        MessageDigest sha = digest();
        sha.update(deps.getBytes(StandardCharsets.UTF_8));
        sha.update(plan.replaceAll("(?m)^# final-kickstart.ks of compose [^\\n]*$", "").getBytes(StandardCharsets.UTF_8));
        return uuidOf(sha.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
