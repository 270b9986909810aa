package dev.kiln.source;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A package source: the Weldr source object (spec §4) plus the fields of Kiln's Debian type {@code deb}.
 *
 * @param id            short id, the key everywhere
 * @param name          descriptive name
 * @param type          {@code deb}, {@code yum-baseurl}, {@code yum-mirrorlist} or {@code yum-metalink}
 * @param url           repository root (for {@code deb}: the directory holding {@code dists/})
 * @param suites        {@code deb}: suites (distributions), e.g. bookworm, bookworm-updates
 * @param components    {@code deb}: components, e.g. main
 * @param architectures {@code deb}: architectures to read; empty = the host's
 * @param checkGpg      verify the repository's signature
 * @param checkSsl      verify TLS certificates
 * @param gpgkeyPaths   keyring files (binary or armored OpenPGP)
 * @param gpgkeyUrls    key URLs (file:// or http(s)://)
 * @param proxy         proxy URL or null
 * @param system        read from the host's configuration; cannot be changed or deleted
 * @param distros       the distributions it serves (osbuild-composer's {@code distros}); empty = every one
 */
public record Source(String id, String name, String type, String url, List<String> suites, List<String> components,
        List<String> architectures, boolean checkGpg, boolean checkSsl, List<String> gpgkeyPaths,
        List<String> gpgkeyUrls, String proxy, boolean system, List<String> distros) {

    public static final String DEB = "deb";
    public static final List<String> TYPES = List.of(DEB, "yum-baseurl", "yum-mirrorlist", "yum-metalink");

    public Source {
        suites = List.copyOf(suites);
        components = List.copyOf(components);
        architectures = List.copyOf(architectures);
        gpgkeyPaths = List.copyOf(gpgkeyPaths);
        gpgkeyUrls = List.copyOf(gpgkeyUrls);
        distros = List.copyOf(distros);
    }

    /** Whether it serves {@code distro} (a Weldr name). */
    public boolean serves(String distro) {
        return distros.isEmpty() || distros.contains(distro);
    }

    public boolean isDeb() {
        return DEB.equals(type);
    }

    /** The source object as the API shows it (v1: {@code id} and {@code name}; unset optional keys left out). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("name", name);
        m.put("type", type);
        m.put("url", url);
        if (isDeb()) {
            m.put("suites", suites);
            m.put("components", components);
            if (!architectures.isEmpty()) {
                m.put("architectures", architectures);
            }
        }
        m.put("check_gpg", checkGpg);
        m.put("check_ssl", checkSsl);
        m.put("system", system);
        if (!gpgkeyPaths.isEmpty()) {
            m.put("gpgkey_paths", gpgkeyPaths);
        }
        if (!gpgkeyUrls.isEmpty()) {
            m.put("gpgkey_urls", gpgkeyUrls);
        }
        if (proxy != null && !proxy.isBlank()) {
            m.put("proxy", proxy);
        }
        if (!distros.isEmpty()) {
            m.put("distros", distros);
        }
        return m;
    }
}
