package dev.kiln.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The host's distribution, read from {@code os-release}; Kiln builds images of the distribution it runs on, as
 * lorax did. {@code name} is the Weldr distro name ({@code <ID>-<VERSION_ID>}, e.g. {@code debian-12}).
 */
public record HostDistro(String id, String versionId, String prettyName) {

    public String name() {
        return versionId.isEmpty() ? id : id + "-" + versionId;
    }

    public static HostDistro read() {
        return read(Path.of("/etc/os-release"));
    }

    static HostDistro read(Path osRelease) {
        Map<String, String> fields = new HashMap<>();
        try {
            for (String line : Files.readAllLines(osRelease)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    fields.put(line.substring(0, eq).strip(), unquote(line.substring(eq + 1).strip()));
                }
            }
        } catch (IOException e) {
            return new HostDistro("linux", "", "Linux");
        }
        return new HostDistro(fields.getOrDefault("ID", "linux"), fields.getOrDefault("VERSION_ID", ""),
                fields.getOrDefault("PRETTY_NAME", "Linux"));
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
