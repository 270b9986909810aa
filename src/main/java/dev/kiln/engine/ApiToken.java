package dev.kiln.engine;

import dev.kiln.KilnProperties;
import dev.kiln.store.AtomicFiles;
import dev.kiln.store.StatePermissions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.springframework.stereotype.Component;

/**
 * The secret a client sends ({@code Authorization: Bearer …}) to use the Weldr API over TCP: 32 random bytes in
 * {@code <state-dir>/api-token}, made at the first start, readable by root and the {@code weldr} group only (mode
 * 0640), like the socket. Delete the file and restart to change it.
 */
@Component
public class ApiToken {

    public static final String FILE = "api-token";
    private final byte[] token;

    public ApiToken(KilnProperties properties) {
        Path file = properties.stateDir().resolve(FILE);
        try {
            Files.createDirectories(file.getParent());
            if (!Files.exists(file)) { // nodes sharing the state directory: the first one makes it
                byte[] random = new byte[32];
                new SecureRandom().nextBytes(random);
                AtomicFiles.writeNew(file, HexFormat.of().formatHex(random) + "\n",
                        PosixFilePermissions.fromString("rw-r-----"));
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
            StatePermissions.setGroup(file);
            this.token = Files.readString(file, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the API token " + file, e);
        }
        if (token.length < 32) {
            throw new IllegalStateException(file + " holds no usable token (at least 32 characters)");
        }
    }

    /** Compares in constant time, so the answer's timing says nothing about the token. */
    public boolean matches(String candidate) {
        return candidate != null && MessageDigest.isEqual(token, candidate.getBytes(StandardCharsets.UTF_8));
    }
}
