package dev.kiln.source;

import java.util.List;
import java.util.Optional;

/**
 * The distributions Kiln builds, by their Weldr names ({@code debian-12}): today the host's only, whose apt sources
 * are the system sources. A name asked for ({@code ?distro=}, a blueprint's {@code distro}) is one of them or an
 * error that names them; none asked for means the host's.
 */
public final class Distros {

    private static final String HOST = HostDistro.read().name();

    private Distros() {
    }

    public static List<String> names() {
        return List.of(HOST);
    }

    public static String host() {
        return HOST;
    }

    /** The distribution meant by {@code requested} (null or blank: the host's); empty when Kiln does not build it. */
    public static Optional<String> resolve(String requested) {
        if (requested == null || requested.isBlank()) {
            return Optional.of(HOST);
        }
        return names().contains(requested) ? Optional.of(requested) : Optional.empty();
    }

    /** What an unknown name is told: osbuild-composer's message, and the names Kiln knows. */
    public static String invalid(String requested) {
        String shown = requested.length() > 64 ? requested.substring(0, 64) + "…" : requested;
        return "Invalid distro: " + shown.replaceAll("\\p{Cntrl}", "?") + " (Kiln builds " + String.join(", ", names())
                + ")";
    }
}
