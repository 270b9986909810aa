package dev.kiln.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A distribution Kiln builds: {@code id} and {@code versionId} as {@code os-release} names them, the suite's
 * {@code codename} ({@code bookworm}) and the {@code prettyName} an image's {@code config.toml} shows. {@link #name}
 * is its Weldr name ({@code <ID>-<VERSION_ID>}, e.g. {@code debian-12}).
 */
public record Distro(String id, String versionId, String codename, String prettyName) {

    public String name() {
        return versionId.isEmpty() ? id : id + "-" + versionId;
    }

    /** The host's distribution, read from {@code /etc/os-release}. */
    public static Distro host() {
        return read(Path.of("/etc/os-release"));
    }

    static Distro read(Path osRelease) {
        Map<String, String> fields = new HashMap<>();
        try {
            for (String line : Files.readAllLines(osRelease)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    fields.put(line.substring(0, eq).strip(), unquote(line.substring(eq + 1).strip()));
                }
            }
        } catch (IOException e) {
            return new Distro("linux", "", "", "Linux");
        }
        return new Distro(fields.getOrDefault("ID", "linux"), fields.getOrDefault("VERSION_ID", ""),
                fields.getOrDefault("VERSION_CODENAME", ""), fields.getOrDefault("PRETTY_NAME", "Linux"));
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
