package dev.kiln.source;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the host's apt configuration as system sources, the way lorax used the host's yum repositories: one-line
 * {@code sources.list} / {@code sources.list.d/*.list} entries and deb822 {@code sources.list.d/*.sources}
 * stanzas, {@code deb} types only, with their {@code Signed-By} keyrings (else apt's trusted keyrings).
 */
public final class AptSources {

    private AptSources() {
    }

    public static List<Source> read(Path aptDir) {
        List<Entry> entries = new ArrayList<>();
        try {
            Path list = aptDir.resolve("sources.list");
            if (Files.isRegularFile(list)) {
                entries.addAll(oneLine(Files.readAllLines(list)));
            }
            Path dir = aptDir.resolve("sources.list.d");
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.sorted().toList()) {
                        String n = f.getFileName().toString();
                        if (n.endsWith(".list")) {
                            entries.addAll(oneLine(Files.readAllLines(f)));
                        } else if (n.endsWith(".sources")) {
                            entries.addAll(deb822(Files.readString(f)));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new SourceException("cannot read the apt configuration in " + aptDir + ": " + e.getMessage(), e);
        }
        List<String> trusted = trustedKeyrings(aptDir);
        Map<String, Integer> used = new HashMap<>();
        Map<String, Source> sources = new LinkedHashMap<>();
        for (Entry e : entries) {
            String base = idFor(e.uri);
            int n = used.merge(base, 1, Integer::sum);
            String id = n == 1 ? base : base + "-" + n;
            List<String> keys = e.signedBy.isEmpty() ? trusted : e.signedBy;
            sources.put(id, new Source(id, e.uri + " " + String.join(" ", e.suites), Source.DEB, e.uri, e.suites,
                    e.components, e.architectures, !e.trusted, true, keys, List.of(), null, true, List.of()));
        }
        return List.copyOf(sources.values());
    }

    /** A readable id from the repository's address: its last path element ("debian", "debian-security"). */
    static String idFor(String uri) {
        String path = URI.create(uri).getPath();
        String[] parts = path == null ? new String[0] : path.split("/");
        String last = "";
        for (String p : parts) {
            if (!p.isBlank()) {
                last = p;
            }
        }
        if (last.isEmpty()) {
            String host = URI.create(uri).getHost();
            last = host == null ? "apt" : host;
        }
        String id = last.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-").replaceAll("^[.-]+", "");
        return id.isEmpty() ? "apt" : id;
    }

    private record Entry(String uri, List<String> suites, List<String> components, List<String> architectures,
            List<String> signedBy, boolean trusted) {
    }

    static List<Entry> oneLine(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (String raw : lines) {
            String line = raw.replaceAll("#.*", "").strip();
            if (!line.startsWith("deb ") && !line.startsWith("deb\t")) {
                continue;
            }
            line = line.substring(3).strip();
            Map<String, String> options = new HashMap<>();
            if (line.startsWith("[")) {
                int close = line.indexOf(']');
                if (close < 0) {
                    continue;
                }
                for (String opt : line.substring(1, close).strip().split("\\s+")) {
                    int eq = opt.indexOf('=');
                    if (eq > 0) {
                        options.put(opt.substring(0, eq).toLowerCase(Locale.ROOT), opt.substring(eq + 1));
                    }
                }
                line = line.substring(close + 1).strip();
            }
            String[] words = line.split("\\s+");
            if (words.length < 2) {
                continue;
            }
            out.add(new Entry(words[0], List.of(words[1]), List.of(Arrays.copyOfRange(words, 2, words.length)),
                    csv(options.get("arch")), csv(options.get("signed-by")), "yes".equals(options.get("trusted"))));
        }
        return out;
    }

    static List<Entry> deb822(String text) {
        List<Entry> out = new ArrayList<>();
        for (String stanza : text.split("\\n\\s*\\n")) {
            Map<String, String> fields = new HashMap<>();
            String key = null;
            for (String line : stanza.split("\\n")) {
                if (line.startsWith("#")) {
                    continue;
                }
                if ((line.startsWith(" ") || line.startsWith("\t")) && key != null) {
                    fields.merge(key, "\n" + line.strip(), String::concat);
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    key = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                    fields.put(key, line.substring(colon + 1).strip());
                }
            }
            List<String> types = words(fields.get("types"));
            if (!types.contains("deb") || "no".equalsIgnoreCase(fields.getOrDefault("enabled", "yes"))) {
                continue;
            }
            String signedBy = fields.getOrDefault("signed-by", "");
            if (signedBy.contains("BEGIN PGP")) {
                signedBy = ""; // an inline key: not kept as a path; the trusted keyrings apply instead
            }
            for (String uri : words(fields.get("uris"))) {
                out.add(new Entry(uri, words(fields.get("suites")), words(fields.get("components")),
                        words(fields.get("architectures")), words(signedBy),
                        "yes".equalsIgnoreCase(fields.get("trusted"))));
            }
        }
        return out;
    }

    private static List<String> words(String value) {
        return value == null || value.isBlank() ? List.of() : List.of(value.strip().split("\\s+"));
    }

    private static List<String> csv(String value) {
        return value == null || value.isBlank() ? List.of() : List.of(value.split(","));
    }

    private static List<String> trustedKeyrings(Path aptDir) {
        List<String> keys = new ArrayList<>();
        Path single = aptDir.resolve("trusted.gpg");
        if (Files.isRegularFile(single)) {
            keys.add(single.toString());
        }
        Path dir = aptDir.resolve("trusted.gpg.d");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.toString().endsWith(".gpg") || f.toString().endsWith(".asc")).sorted()
                        .forEach(f -> keys.add(f.toString()));
            } catch (IOException e) {
                throw new SourceException("cannot read " + dir + ": " + e.getMessage(), e);
            }
        }
        return keys;
    }
}
