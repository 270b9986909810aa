package dev.kiln.source;

import dev.kiln.KilnProperties;
import dev.kiln.blueprint.BlueprintNames;
import dev.kiln.blueprint.TomlWriter;
import dev.kiln.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The enabled sources: the host's apt sources (read once at start, {@code system = true}, immutable) and the user's,
 * one TOML file each under {@code <state>/sources/}.
 */
@Component
public class SourceStore {

    private static final Logger log = LoggerFactory.getLogger(SourceStore.class);

    private final Path dir;
    private final Map<String, Source> system = new TreeMap<>();
    private final Map<String, Source> user = new TreeMap<>();
    private final Map<String, List<Source>> systemByDistro = new TreeMap<>();
    private long generation;

    public SourceStore(KilnProperties properties, @Value("${kiln.sources.apt-dir:/etc/apt}") Path aptDir) {
        this.dir = properties.stateDir().resolve("sources");
        AptSources.read(aptDir).forEach(s -> system.put(s.id(), s));
        log.info("System sources from {}: {}", aptDir, system.keySet());
        for (String name : Distros.names()) {
            Distro d = Distros.distro(name).orElseThrow();
            systemByDistro.put(name, Distros.derive(List.copyOf(system.values()), Distros.hostDistro(), d));
            if (!name.equals(Distros.host())) {
                log.info("System sources of {}: {}", name, systemByDistro.get(name).stream()
                        .map(Source::name).toList());
            }
        }
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".toml")).sorted().toList()) {
                    try {
                        Source s = SourceParser.parseToml(Files.readString(f), true, true);
                        if (!system.containsKey(s.id())) {
                            user.put(s.id(), s);
                        }
                    } catch (RuntimeException e) {
                        log.warn("Ignoring the unreadable source file {}: {}", f, e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the sources in " + dir, e);
        }
    }

    /** Every source, system ones first, each group sorted by id. */
    public synchronized List<Source> all() {
        List<Source> all = new ArrayList<>(system.values());
        all.addAll(user.values());
        return all;
    }

    /**
     * The sources a compose or a package query for {@code distro} reads: that distribution's system sources (the
     * host's, or the host's renamed for it) and the user's that serve it.
     */
    public synchronized List<Source> forDistro(String distro) {
        List<Source> all = new ArrayList<>(systemByDistro.getOrDefault(distro, List.of()));
        user.values().stream().filter(s -> s.serves(distro)).forEach(all::add);
        return all;
    }

    public synchronized Optional<Source> get(String id) {
        return Optional.ofNullable(system.getOrDefault(id, user.get(id)));
    }

    public synchronized boolean isSystem(String id) {
        return system.containsKey(id);
    }

    /** Changes whenever a source is added, replaced or deleted. */
    public synchronized long generation() {
        return generation;
    }

    /** Adds or replaces a user source (never a system one). */
    public synchronized void save(Source source) {
        if (system.containsKey(source.id())) {
            throw new SourceException(source.id() + " is a system source, it cannot be changed.");
        }
        Map<String, Object> doc = new LinkedHashMap<>(source.toMap());
        doc.remove("system");
        try {
            AtomicFiles.writeString(file(source.id()), TomlWriter.write(doc));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        user.put(source.id(), source);
        generation++;
    }

    /** Removes a user source; false when there is none of that id. */
    public synchronized boolean delete(String id) {
        if (system.containsKey(id)) {
            throw new SourceException(id + " is a system source, it cannot be deleted.");
        }
        if (user.remove(id) == null) {
            return false;
        }
        try {
            Files.deleteIfExists(file(id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        generation++;
        return true;
    }

    private Path file(String id) {
        BlueprintNames.require(id);
        return dir.resolve(id + ".toml");
    }
}
