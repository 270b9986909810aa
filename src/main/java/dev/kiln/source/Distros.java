package dev.kiln.source;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The distributions Kiln builds, by their Weldr names ({@code debian-12}): the host's, whose apt sources are its
 * system sources, and on a Debian host the other Debian releases Kiln knows (12 bookworm, 13 trixie), whose system
 * sources are the host's with their suites renamed ({@link #derive}): the same mirror, the same keyring. A name asked
 * for ({@code ?distro=}, a blueprint's {@code distro}) is one of them or an error that names them; none asked for
 * means the host's.
 */
public final class Distros {

    /** Debian releases Kiln builds: version → codename. */
    static final Map<String, String> DEBIAN = Map.of("12", "bookworm", "13", "trixie");

    private static final Distro HOST = Distro.host();
    private static final List<Distro> ALL = known(HOST);

    private Distros() {
    }

    static List<Distro> known(Distro host) {
        List<Distro> all = new ArrayList<>(List.of(host));
        if ("debian".equals(host.id()) && host.codename().equals(DEBIAN.get(host.versionId()))) {
            DEBIAN.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .filter(e -> !e.getKey().equals(host.versionId()))
                    .forEach(e -> all.add(new Distro("debian", e.getKey(), e.getValue(),
                            "Debian GNU/Linux " + e.getKey() + " (" + e.getValue() + ")")));
        }
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return List.copyOf(all);
    }

    public static List<String> names() {
        return ALL.stream().map(Distro::name).toList();
    }

    public static String host() {
        return HOST.name();
    }

    public static Distro hostDistro() {
        return HOST;
    }

    /** The distribution meant by {@code requested} (null or blank: the host's); empty when Kiln does not build it. */
    public static Optional<String> resolve(String requested) {
        return distro(requested).map(Distro::name);
    }

    /** As {@link #resolve}, the distribution itself. */
    public static Optional<Distro> distro(String requested) {
        if (requested == null || requested.isBlank()) {
            return Optional.of(HOST);
        }
        return ALL.stream().filter(d -> d.name().equals(requested)).findFirst();
    }

    /** What an unknown name is told: osbuild-composer's message, and the names Kiln knows. */
    public static String invalid(String requested) {
        String shown = requested.length() > 64 ? requested.substring(0, 64) + "…" : requested;
        return "Invalid distro: " + shown.replaceAll("\\p{Cntrl}", "?") + " (Kiln builds " + String.join(", ", names())
                + ")";
    }

    /**
     * The system sources of {@code target} made from the host's: each host source whose suites are all the host's
     * codename or {@code <codename>-<pocket>} (bookworm, bookworm-updates, bookworm-security) with the target's
     * codename instead, the rest (third-party repositories named after the host's release, or not at all) left
     * out. For the host itself, its sources unchanged.
     */
    static List<Source> derive(List<Source> hostSources, Distro host, Distro target) {
        if (target.name().equals(host.name())) {
            return hostSources;
        }
        List<Source> out = new ArrayList<>();
        for (Source s : hostSources) {
            if (!s.isDeb() || s.suites().isEmpty() || host.codename().isEmpty()) {
                continue;
            }
            List<String> suites = new ArrayList<>();
            for (String suite : s.suites()) {
                if (suite.equals(host.codename())) {
                    suites.add(target.codename());
                } else if (suite.startsWith(host.codename() + "-")) {
                    suites.add(target.codename() + suite.substring(host.codename().length()));
                }
            }
            if (suites.size() == s.suites().size()) {
                out.add(new Source(s.id(), s.url() + " " + String.join(" ", suites), s.type(), s.url(), suites,
                        s.components(), s.architectures(), s.checkGpg(), s.checkSsl(), s.gpgkeyPaths(),
                        s.gpgkeyUrls(), s.proxy(), true, List.of(target.name())));
            }
        }
        return List.copyOf(out);
    }
}
