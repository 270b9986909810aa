package dev.kiln.depsolve;

import dev.kiln.source.Distros;
import dev.kiln.source.MetadataFetcher;
import dev.kiln.source.Source;
import dev.kiln.source.SourceException;
import dev.kiln.source.SourceStore;
import dev.kiln.KilnProperties;
import dev.kiln.debian.Pkg;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The package index of each distribution's sources ({@link SourceStore#forDistro}), built from the metadata cache
 * and rebuilt when the sources change or the metadata is older than {@code kiln.sources.metadata-max-age}
 * (conditional requests keep that cheap). The host's is loaded in the background at start so that the first depsolve
 * does not wait for it; another distribution's when it is first asked for.
 */
@Component
public class Repositories {

    private static final Logger log = LoggerFactory.getLogger(Repositories.class);

    private static final ExecutorService POOL = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "metadata");
        t.setDaemon(true);
        return t;
    });
    private final SourceStore sources;
    private final MetadataFetcher fetcher;
    private final Duration maxAge;
    private final String arch = hostArch();
    private final Map<String, Loaded> indexes = new HashMap<>();

    private record Loaded(PackageIndex index, long generation, long loadedAt) {
    }

    public Repositories(SourceStore sources, KilnProperties properties,
            @Value("${kiln.sources.metadata-max-age:PT1H}") Duration maxAge) {
        this.sources = sources;
        this.fetcher = new MetadataFetcher(properties.localDir().resolve("cache").resolve("metadata"));
        this.maxAge = maxAge;
    }

    @EventListener
    void warmUp(ApplicationReadyEvent event) {
        Thread t = new Thread(() -> {
            try {
                depsolver();
            } catch (RuntimeException e) {
                log.warn("Package metadata not loaded at start: {}", e.getMessage());
            }
        }, "metadata-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /** The solver over the host distribution's index. */
    public Depsolver depsolver() {
        return depsolver(Distros.host());
    }

    /** The solver over {@code distro}'s index, loading or refreshing the index first when needed. */
    public synchronized Depsolver depsolver(String distro) {
        long now = System.currentTimeMillis();
        Loaded loaded = indexes.get(distro);
        if (loaded == null || loaded.generation() != sources.generation() || now - loaded.loadedAt() > maxAge.toMillis()) {
            long generation = sources.generation();
            List<Source> enabled = new ArrayList<>();
            for (Source s : sources.forDistro(distro)) {
                if (s.isDeb()) {
                    enabled.add(s);
                } else { // stored by an earlier version: listed and deletable, never read
                    log.warn("Source {} has type {}, which Kiln cannot read; it is left out of the package index",
                            s.id(), s.type());
                }
            }
            if (enabled.isEmpty()) {
                throw new SourceException("there are no enabled sources for " + distro);
            }
            long t0 = System.nanoTime();
            List<Pkg> all = loadAll(enabled);
            loaded = new Loaded(new PackageIndex(all, arch), generation, now);
            indexes.put(distro, loaded);
            log.info("Package index of {} ({} sources): {} packages in {} ms", distro, enabled.size(),
                    loaded.index().size(), (System.nanoTime() - t0) / 1_000_000);
        }
        return new Depsolver(loaded.index());
    }

    /** Loads every source at once (fetching is mostly waiting, parsing the big index is one core's work). */
    private List<Pkg> loadAll(List<Source> enabled) {
        List<CompletableFuture<List<Pkg>>> loads = new ArrayList<>();
        for (Source s : enabled) {
            loads.add(CompletableFuture.supplyAsync(() -> {
                List<Pkg> pkgs = new ArrayList<>();
                fetcher.load(s, arch, pkgs::add);
                return pkgs;
            }, POOL));
        }
        List<Pkg> all = new ArrayList<>();
        for (CompletableFuture<List<Pkg>> load : loads) {
            try {
                all.addAll(load.join());
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        return all;
    }

    /** Fetches and checks one source's metadata (what lorax did when a source was added). */
    public void probe(Source source) {
        int[] count = {0};
        fetcher.load(source, arch, p -> count[0]++);
        if (count[0] == 0) {
            throw new SourceException("source " + source.id() + " has no packages for " + arch);
        }
    }

    public String arch() {
        return arch;
    }

    /** dpkg's name of the host architecture. */
    static String hostArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "ppc64le" -> "ppc64el";
            case "s390x" -> "s390x";
            default -> System.getProperty("os.arch");
        };
    }
}
