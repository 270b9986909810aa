package dev.kiln.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlParseResult;

/**
 * One compose's {@code results/<UUID>/} directory (spec §2.5): every file written to a temporary name and
 * renamed, {@code STATUS} and {@code times.toml} kept as lorax kept them, and the compose's own log.
 */
public final class ResultsDir {

    public static final String BLUEPRINT = "blueprint.toml";
    public static final String COMMIT = "COMMIT";
    public static final String COMPOSE = "compose";
    public static final String CONFIG = "config.toml";
    public static final String DEPS = "deps.toml";
    public static final String FINAL_KICKSTART = "final-kickstart.ks";
    public static final String FROZEN = "frozen.toml";
    public static final String LOGS = "logs";
    public static final String STATUS = "STATUS";
    public static final String TIMES = "times.toml";
    /** The image's software bill of materials, an SPDX 2.3 JSON document. */
    public static final String SBOM = "sbom.spdx.json";
    /** Every step's and phase's duration, count and bytes ({@link Progress}). */
    public static final String METRICS = "metrics.json";
    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final DateTimeFormatter LOG_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS").withZone(ZoneOffset.UTC);

    private final Path dir;
    private final String uuid;

    public ResultsDir(Path resultsRoot, String uuid) {
        if (!isUuid(uuid)) {
            throw new IllegalArgumentException("not a compose UUID: " + uuid);
        }
        this.uuid = uuid;
        this.dir = resultsRoot.resolve(uuid);
    }

    /** True for a lower-case canonical UUID: the only text that ever becomes a results directory name. */
    public static boolean isUuid(String text) {
        return text != null && UUID_TEXT.matcher(text).matches() && UUID.fromString(text).toString().equals(text);
    }

    public String uuid() {
        return uuid;
    }

    public Path path() {
        return dir;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    public boolean exists() {
        return Files.isDirectory(dir);
    }

    public void create() {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /**
     * Files whose loss in a crash costs information, never a compose (the listings derive a compose's status from
     * the engine): written atomically but not forced to disk. Everything a later step reads is forced.
     */
    private static final java.util.Set<String> INFORMATION = java.util.Set.of(STATUS, TIMES, METRICS);

    public void write(String name, String content) {
        try {
            if (INFORMATION.contains(name)) {
                AtomicFiles.replace(dir.resolve(name), content.getBytes(StandardCharsets.UTF_8));
                return;
            }
            AtomicFiles.writeString(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(name), e);
        }
    }

    /**
     * Removes the temporary files ({@code .NAME….tmp}) of atomic writes that a kill interrupted, here and in
     * {@code logs/}: those older than this process, which cannot be the writes of its own.
     */
    public void removeUnfinishedWrites() {
        long started = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        for (Path d : List.of(dir, dir.resolve("logs"))) {
            if (!Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            try (var files = Files.list(d)) {
                for (Path f : files.toList()) {
                    String n = f.getFileName().toString();
                    if (n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            && Files.getLastModifiedTime(f, java.nio.file.LinkOption.NOFOLLOW_LINKS).toMillis() < started) {
                        Files.deleteIfExists(f);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clean " + d, e);
            }
        }
    }

    public String read(String name) {
        try {
            return Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(name), e);
        }
    }

    public boolean has(String name) {
        return Files.exists(dir.resolve(name));
    }

    /** Writes {@code STATUS}: {@code WAITING} without a newline, the later states with one (as lorax). */
    public void status(String status) {
        write(STATUS, status.equals("WAITING") ? status : status + "\n");
    }

    /** Records {@code created}, {@code started} or {@code finished} in {@code times.toml}. */
    public void time(String key, Instant when) {
        // one results directory has many ResultsDir objects (one per caller): they lock the directory, not themselves
        synchronized (STRIPES[Math.floorMod(dir.hashCode(), STRIPES.length)]) {
            Map<String, Double> times = times();
            times.put(key, when.toEpochMilli() / 1000.0);
            StringBuilder toml = new StringBuilder();
            for (String k : new String[] {"created", "started", "finished"}) {
                if (times.containsKey(k)) {
                    // 1795882697.53 as lorax wrote it, not Java's 1.79588269753E9
                    toml.append(k).append(" = ").append(new BigDecimal(Double.toString(times.get(k))).toPlainString())
                            .append('\n');
                }
            }
            write(TIMES, toml.toString());
        }
    }

    /**
     * Rewrites file {@code name} from what it holds (null when it does not exist), atomically and under the lock of
     * this results directory, so that writers of one directory in this process never lose each other's changes.
     */
    public void update(String name, java.util.function.UnaryOperator<String> change) {
        synchronized (STRIPES[Math.floorMod(dir.hashCode(), STRIPES.length)]) {
            if (!Files.isDirectory(dir)) {
                return; // removed (cancelled or deleted): nothing brings it back
            }
            write(name, change.apply(has(name) ? read(name) : null));
        }
    }

    /** Locks of results directories, by the hash of their path: few, and the same for every object of one. */
    private static final Object[] STRIPES = new Object[64];

    static {
        for (int i = 0; i < STRIPES.length; i++) {
            STRIPES[i] = new Object();
        }
    }

    /** The recorded times as epoch seconds (keys appear as they are reached). */
    public Map<String, Double> times() {
        Map<String, Double> times = new LinkedHashMap<>();
        Path f = dir.resolve(TIMES);
        if (!Files.exists(f)) {
            return times;
        }
        try {
            TomlParseResult t = Toml.parse(f);
            for (String k : t.keySet()) {
                Object v = t.get(k);
                if (v instanceof Number n) {
                    times.put(k, n.doubleValue());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return times;
    }

    /** Appends a line to {@code logs/combined.log} in lorax's format ({@code <time> <LEVEL>: <message>}). */
    public void log(String level, String message) {
        if (!Files.isDirectory(dir)) {
            return; // removed (cancelled or deleted, perhaps by another node): a late line must not bring it back
        }
        try {
            Path logs = Files.createDirectories(dir.resolve(LOGS));
            String line = LOG_TIME.format(Instant.now()) + " " + level + ": " + message + "\n";
            Files.writeString(logs.resolve("combined.log"), line, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the log of compose " + uuid, e);
        }
    }

    public void deleteAll() {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }
}
